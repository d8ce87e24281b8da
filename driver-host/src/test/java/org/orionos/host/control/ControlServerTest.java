package org.orionos.host.control;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Map<String, ControlHandler> OPS = Map.of(
            "echo", args -> args,
            "refuse", args -> {
                throw ErrnoException.withMessage(Errno.EBUSY, "refuse", "x", "x is busy; wait for it");
            },
            "hello", args -> TextNode.valueOf("hello " + args.path("name").asText("nobody")));

    /** Sends raw lines on one connection and returns one reply per line. */
    private static JsonNode[] raw(Path sock, String... lines) throws Exception {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
            JsonNode[] out = new JsonNode[lines.length];
            for (int i = 0; i < lines.length; i++) {
                c.write(ByteBuffer.wrap((lines[i] + "\n").getBytes(StandardCharsets.UTF_8)));
                out[i] = JSON.readTree(in.readLine());
            }
            return out;
        }
    }

    @Test
    void answersOperationsAndExplainsBadRequests(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("run/orion.sock");
        try (ControlServer s = ControlServer.start(sock)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)), "root only");
            JsonNode early = raw(sock, "{\"op\":\"hello\"}")[0];
            assertTrue(early.path("error").asText().contains("still starting"), early.toString());
            s.publish(OPS);

            assertEquals("hello orion", ControlClient.call(sock, "hello",
                    JSON.createObjectNode().put("name", "orion")).asText());
            JsonNode[] r = raw(sock,
                    "not json",
                    "[1,2]",
                    "{\"op\":\"nope\"}",
                    "{\"op\":\"echo\",\"args\":[1]}",
                    "{\"op\":\"echo\",\"args\":{\"a\":1}}",
                    "{\"op\":\"refuse\"}");
            assertTrue(r[0].path("error").asText().startsWith("request is not JSON"), r[0].toString());
            assertTrue(r[1].path("error").asText().contains("string \"op\""), r[1].toString());
            assertTrue(r[2].path("error").asText().contains("unknown operation 'nope'")
                    && r[2].path("error").asText().contains("echo, hello, refuse"), r[2].toString());
            assertTrue(r[3].path("error").asText().contains("\"args\" must be a JSON object"), r[3].toString());
            assertEquals(1, r[4].path("result").path("a").asInt(), "the connection survived the bad requests");
            assertFalse(r[5].path("ok").asBoolean());
            assertTrue(r[5].path("error").asText().contains("x is busy; wait for it"), r[5].toString());

            ControlException refused = assertThrows(ControlException.class, () -> ControlClient.call(sock, "refuse", null));
            assertTrue(refused.getMessage().contains("x is busy"), refused.getMessage());

            // An endless line ends that connection only.
            try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
                byte[] junk = new byte[64 * 1024];
                java.util.Arrays.fill(junk, (byte) 'x');
                try {
                    for (int i = 0; i < 32; i++) {
                        c.write(ByteBuffer.wrap(junk));
                    }
                } catch (java.io.IOException closedByServer) {
                    // expected once the server gives up on the line
                }
                assertEquals(-1, Channels.newInputStream(c).read(), "the server closed the flooding connection");
            }
            assertEquals("hello x", ControlClient.call(sock, "hello", JSON.createObjectNode().put("name", "x")).asText());

            ErrnoException second = assertThrows(ErrnoException.class, () -> ControlServer.start(sock));
            assertEquals(Errno.EADDRINUSE, second.errno());
            assertTrue(second.getMessage().contains("another orion host is running"), second.getMessage());
        }
        assertTrue(Files.notExists(sock), "closing removes the socket");
        assertFalse(ControlClient.hostRunning(sock));
    }

    @Test
    void aStaleSocketFromAKilledHostIsReplaced(@TempDir Path dir) throws Exception {
        Path sock = dir.resolve("orion.sock");
        // Bound and closed without unlinking: what kill -9 leaves behind.
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(sock));
        }
        assertTrue(Files.exists(sock));
        try (ControlServer s = ControlServer.start(sock)) {
            s.publish(OPS);
            assertTrue(ControlClient.hostRunning(sock));
            assertEquals("hello y", ControlClient.call(sock, "hello", JSON.createObjectNode().put("name", "y")).asText());
        }
    }
}
