package org.orionos.host;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.slf4j.LoggerFactory;

import ch.qos.logback.classic.LoggerContext;

/**
 * Turns SIGINT/SIGTERM into an orderly stop with exit status 0. The JVM's only supported signal
 * hook is a shutdown hook; ours tells the main thread to stop, waits while it drains and closes,
 * then halts with the main thread's status (a plain hook exit would report 130/143).
 */
public final class ShutdownSignal {
    private final CountDownLatch requested = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private final long drainTimeoutMillis;
    private volatile int exitStatus;

    public ShutdownSignal(long drainTimeoutMillis) {
        this.drainTimeoutMillis = drainTimeoutMillis;
    }

    /** Installs the hook; call once, before serving. */
    public ShutdownSignal install() {
        Thread hook = new Thread(this::onSignal, "orion-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        return this;
    }

    /** Blocks the caller (the main thread) until a stop is requested. */
    public void awaitRequested() throws InterruptedException {
        requested.await();
    }

    /** Whether a stop has been requested. */
    public boolean isRequested() {
        return requested.getCount() == 0;
    }

    /** The main thread reports that everything is closed, with the status to exit with. */
    public void finished(int status) {
        exitStatus = status;
        finished.countDown();
    }

    private void onSignal() {
        requested.countDown();
        boolean drained;
        try {
            drained = finished.await(drainTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        if (!drained) {
            LoggerFactory.getLogger(ShutdownSignal.class)
                    .error("shutdown did not finish within {} ms; exiting anyway", drainTimeoutMillis);
            exitStatus = 1;
        }
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
            ctx.stop(); // flush appenders: halt() skips logback's own hook
        }
        Runtime.getRuntime().halt(exitStatus);
    }
}
