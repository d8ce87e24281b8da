package org.orionos.host.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Serves one management operation: its arguments in, a JSON result out. Runs off the reactors. */
@FunctionalInterface
public interface ControlHandler {
    /**
     * @throws org.orionos.bindings.ErrnoException or {@link IllegalArgumentException} with a
     *         message for the operator: it becomes the reply's error
     */
    JsonNode handle(ObjectNode args) throws Exception;
}
