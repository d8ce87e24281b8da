package org.orionos.host.control;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Sends one management request to a running host and returns its result. */
public final class ControlClient {
    /** Where {@code orion serve} listens unless told otherwise. */
    public static final Path DEFAULT_SOCKET = Path.of("/run/orion/orion.sock");

    private ControlClient() {}

    /** True when a host answers on {@code socket} (for commands that can also work offline). */
    public static boolean hostRunning(Path socket) {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            return c.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Runs {@code op} on the host listening on {@code socket}.
     *
     * @throws ControlException when no host answers (with what to do), or with the host's refusal
     */
    public static JsonNode call(Path socket, String op, ObjectNode args) {
        ObjectNode req = ControlServer.JSON.createObjectNode().put("op", op);
        req.set("args", args == null ? ControlServer.JSON.createObjectNode() : args);
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            try {
                c.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                throw new ControlException("no orion host answers on " + socket + " (" + e.getMessage()
                        + "): start one with `orion serve`, or name its socket with --control-socket");
            }
            c.write(java.nio.ByteBuffer.wrap((ControlServer.JSON.writeValueAsString(req) + "\n")
                    .getBytes(StandardCharsets.UTF_8)));
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
            String line = in.readLine();
            if (line == null) {
                throw new ControlException("the host on " + socket + " closed the connection without answering " + op);
            }
            JsonNode reply = ControlServer.JSON.readTree(line);
            if (!reply.path("ok").asBoolean(false)) {
                throw new ControlException(reply.path("error").asText("the host refused " + op + " without a reason"));
            }
            return reply.path("result");
        } catch (IOException e) {
            throw new ControlException("talking to the host on " + socket + " failed: " + e.getMessage(), e);
        }
    }
}
