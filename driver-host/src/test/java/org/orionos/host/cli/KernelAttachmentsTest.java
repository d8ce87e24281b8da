package org.orionos.host.cli;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.control.ControlHandler;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The management operations for kernel devices, on a host that serves no exports (the operations
 * against the real nbd module run in the guest: NbdAttachGuestTest).
 */
class KernelAttachmentsTest {

    @Test
    void operationsSayWhatIsWrong() throws Exception {
        KernelAttachments k = new KernelAttachments(null);
        Map<String, ControlHandler> ops = k.handlers();
        assertEquals(java.util.Set.of("nbd.attach", "nbd.detach", "nbd.attachments"), ops.keySet());
        assertEquals(0, ops.get("nbd.attachments").handle(JsonNodeFactory.instance.objectNode()).size());
        assertThrows(IllegalArgumentException.class, () -> ops.get("nbd.attach").handle(JsonNodeFactory.instance.objectNode()));
        ErrnoException none = assertThrows(ErrnoException.class,
                () -> ops.get("nbd.attach").handle(JsonNodeFactory.instance.objectNode().put("export", "vol0")));
        assertEquals(Errno.ENOENT, none.errno());
        assertTrue(none.getMessage().contains("[[nbd.export]]"), none.getMessage());
        ErrnoException notOurs = assertThrows(ErrnoException.class,
                () -> ops.get("nbd.detach").handle(JsonNodeFactory.instance.objectNode().put("device", "/dev/nbd3")));
        assertTrue(notOurs.getMessage().contains("did not attach /dev/nbd3"), notOurs.getMessage());
        ErrnoException bad = assertThrows(ErrnoException.class,
                () -> ops.get("nbd.detach").handle(JsonNodeFactory.instance.objectNode().put("device", "/dev/sda")));
        assertTrue(bad.getMessage().contains("/dev/nbdN"), bad.getMessage());
        k.stop(); // nothing attached: nothing to do
    }
}
