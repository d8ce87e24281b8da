package org.orionos.host.control;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Listens on a Unix socket (mode 0600) and answers {@code {"op": NAME, "args": {...}}} lines with
 * {@code {"ok": true, "result": ...}} or {@code {"ok": false, "error": "..."}}. One virtual thread
 * per connection; a connection may send many requests. Refuses to start while another host
 * answers on the same path; a stale socket file left by a killed host is replaced.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    static final ObjectMapper JSON = new ObjectMapper();
    /** A request line longer than this is refused: management requests are small. */
    static final int MAX_LINE = 1 << 20;

    private final Path path;
    private final ServerSocketChannel listener;
    private volatile Map<String, ControlHandler> handlers = Map.of();
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean closing;

    private ControlServer(Path path, ServerSocketChannel listener) {
        this.path = path;
        this.listener = listener;
        this.acceptor = Thread.ofPlatform().name("orion-control").daemon().unstarted(this::acceptLoop);
    }

    /**
     * Binds {@code path} and starts answering; operations are served once {@link #publish}ed.
     * Call it before building anything: it is also what stops a second host on the same path.
     */
    public static ControlServer start(Path path) {
        Path abs = path.toAbsolutePath();
        try {
            Files.createDirectories(abs.getParent());
            if (Files.exists(abs)) {
                if (answers(abs)) {
                    throw ErrnoException.withMessage(Errno.EADDRINUSE, "bind", abs.toString(),
                            "another orion host is running with its control socket at " + abs
                                    + "; stop it first, or give this one another --control-socket");
                }
                Files.delete(abs); // left behind by a host that was killed
            }
            ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            ch.bind(UnixDomainSocketAddress.of(abs));
            Files.setPosixFilePermissions(abs, PosixFilePermissions.fromString("rw-------"));
            ControlServer s = new ControlServer(abs, ch);
            s.acceptor.start();
            return s;
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the control socket " + abs + ": " + e.getMessage()
                    + " (give another path with --control-socket)", e);
        }
    }

    private static boolean answers(Path p) {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(p))) {
            return c.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    /** Serves {@code ops} (by operation name) from now on. */
    public void publish(Map<String, ControlHandler> ops) {
        handlers = Map.copyOf(ops);
        LOG.info("control socket {} ({} operations: {})", path, ops.size(), String.join(", ", new TreeMap<>(ops).keySet()));
    }

    public Path path() {
        return path;
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel c;
            try {
                c = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closing) {
                    LOG.warn("control socket accept failed: {}", e.getMessage());
                }
                return;
            }
            open.add(c);
            Thread.ofVirtual().name("orion-control-conn").start(() -> serve(c));
        }
    }

    private void serve(SocketChannel c) {
        try (c; BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
             OutputStream out = Channels.newOutputStream(c)) {
            String line;
            while ((line = readLine(in)) != null) {
                ObjectNode reply = answer(line);
                out.write((JSON.writeValueAsString(reply) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException e) {
            LOG.debug("control connection ended: {}", e.getMessage());
        } finally {
            open.remove(c);
        }
    }

    /** A line, or null at end of stream; a line over {@link #MAX_LINE} characters ends the connection. */
    private static String readLine(BufferedReader in) throws IOException {
        StringBuilder b = new StringBuilder();
        int ch;
        while ((ch = in.read()) >= 0) {
            if (ch == '\n') {
                return b.toString();
            }
            if (b.length() >= MAX_LINE) {
                throw new IOException("request line longer than " + MAX_LINE + " characters");
            }
            b.append((char) ch);
        }
        return b.isEmpty() ? null : b.toString();
    }

    ObjectNode answer(String line) {
        ObjectNode reply = JSON.createObjectNode();
        JsonNode req;
        try {
            req = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            return reply.put("ok", false).put("error", "request is not JSON: " + e.getOriginalMessage());
        }
        if (req == null || !req.isObject() || !req.path("op").isTextual()) {
            return reply.put("ok", false).put("error", "a request is a JSON object with a string \"op\" (and optional object \"args\")");
        }
        String op = req.get("op").asText();
        Map<String, ControlHandler> ops = handlers;
        if (ops.isEmpty()) {
            return reply.put("ok", false).put("error", "the host is still starting; try again in a moment");
        }
        ControlHandler h = ops.get(op);
        if (h == null) {
            return reply.put("ok", false).put("error", "unknown operation '" + op + "'; this host serves "
                    + String.join(", ", new TreeMap<>(ops).keySet()));
        }
        JsonNode args = req.path("args");
        if (!args.isMissingNode() && !args.isObject()) {
            return reply.put("ok", false).put("error", "\"args\" must be a JSON object");
        }
        try {
            JsonNode result = h.handle(args.isObject() ? (ObjectNode) args : JSON.createObjectNode());
            reply.put("ok", true);
            reply.set("result", result);
            return reply;
        } catch (ErrnoException | IllegalArgumentException | IllegalStateException | ControlException e) {
            return reply.put("ok", false).put("error", e.getMessage());
        } catch (Exception e) {
            LOG.warn("control operation {} failed", op, e);
            return reply.put("ok", false).put("error", op + " failed: " + e);
        }
    }

    /** Stops accepting, ends open connections and removes the socket file. */
    @Override
    public void close() {
        closing = true;
        try {
            listener.close();
        } catch (IOException e) {
            LOG.debug("closing the control listener: {}", e.getMessage());
        }
        for (SocketChannel c : open) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.debug("closing a control connection: {}", e.getMessage());
            }
        }
        try {
            acceptor.join(5_000);
            Files.deleteIfExists(path);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.warn("could not remove the control socket {}: {}", path, e.getMessage());
        }
    }
}
