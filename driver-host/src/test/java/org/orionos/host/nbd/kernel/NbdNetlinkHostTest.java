package org.orionos.host.nbd.kernel;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.bindings.uapi.NbdH;
import org.orionos.host.netlink.NetlinkException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The nbd family layer on this host, whose kernel has no nbd module: opening it says to load the
 * module; kernel refusals become messages that say what to do; flags and device names map as the
 * kernel expects. (The family's commands against a real nbd module run in the guest:
 * {@code NbdAttachGuestTest}.)
 */
class NbdNetlinkHostTest {

    @Test
    void absentModuleSaysModprobe() {
        assumeFalse(Files.exists(Path.of("/sys/module/nbd")), "this host has the nbd module loaded");
        ErrnoException e = assertThrows(ErrnoException.class, NbdNetlink::open);
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("modprobe nbd"), e.getMessage());
        // The attacher fails the same way, before creating anything.
        ErrnoException a = assertThrows(ErrnoException.class, () -> KernelAttacher.open(new ExportEndpoint() {
            @Override
            public KernelExport describe(String name) {
                throw new AssertionError("not reached");
            }

            @Override
            public void serveConnected(int fd, String name) {
                throw new AssertionError("not reached");
            }
        }));
        assertTrue(a.getMessage().contains("modprobe nbd"), a.getMessage());
    }

    @Test
    void refusalsSayWhatToDo() {
        assertTrue(NbdNetlink.explain(new NetlinkException("x", Errno.EPERM, null, -1), "connect", "/dev/nbd0")
                .getMessage().contains("run orion as root"));
        String busy = NbdNetlink.explain(new NetlinkException("x", Errno.EBUSY, null, -1), "connect", "/dev/nbd3")
                .getMessage();
        assertTrue(busy.contains("/dev/nbd3") && busy.contains("pick another device"), busy);
        String inval = NbdNetlink.explain(new NetlinkException("x", Errno.EINVAL, "bad size", 20), "connect",
                "/dev/nbd0").getMessage();
        assertTrue(inval.contains("kernel: bad size"), inval);
        String notConnected = NbdNetlink.explain(new NetlinkException("x", Errno.EINVAL, null, -1), "disconnect",
                "/dev/nbd1").getMessage();
        assertTrue(notConnected.contains("not connected"), notConnected);
    }

    @Test
    void serverFlagsFollowTheExport() {
        KernelExport rw = new KernelExport("v", 1 << 20, 512, false, true, true, true, true);
        long one = NbdNetlink.serverFlags(rw, 1);
        assertEquals(NbdH.NBD_FLAG_HAS_FLAGS | NbdH.NBD_FLAG_SEND_FLUSH | NbdH.NBD_FLAG_SEND_FUA
                | NbdH.NBD_FLAG_SEND_TRIM, one);
        assertEquals(one | NbdH.NBD_FLAG_CAN_MULTI_CONN, NbdNetlink.serverFlags(rw, 4));
        KernelExport ro = new KernelExport("r", 4096, 4096, true, false, false, false, true);
        assertEquals(NbdH.NBD_FLAG_HAS_FLAGS | NbdH.NBD_FLAG_READ_ONLY, NbdNetlink.serverFlags(ro, 1));
    }

    @Test
    void theConnectingThreadIsMappedToItsProcess() {
        // The kernel records the thread that connected a device; a restarted host checks its process.
        assertEquals(ProcessHandle.current().pid(), KernelAttacher.processOf(org.orionos.bindings.Libc.gettid()));
        assertEquals(ProcessHandle.current().pid(), KernelAttacher.processOf(ProcessHandle.current().pid()));
        assertEquals(-1, KernelAttacher.processOf(Integer.MAX_VALUE));
        assertEquals(-1, KernelAttacher.processOf(-1));
    }

    @Test
    void deviceNames() {
        assertEquals(0, NbdNetlink.parseDevice("/dev/nbd0"));
        assertEquals(12, NbdNetlink.parseDevice("nbd12"));
        assertEquals("/dev/nbd7", NbdNetlink.device(7));
        ErrnoException e = assertThrows(ErrnoException.class, () -> NbdNetlink.parseDevice("/dev/sda"));
        assertTrue(e.getMessage().contains("/dev/nbdN"), e.getMessage());
        assertThrows(ErrnoException.class, () -> NbdNetlink.parseDevice("/dev/nbdx"));
    }

    @Test
    void exportsTheKernelCannotTakeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new KernelExport("v", 1000, 512, false, false, false, false, true));
        assertThrows(IllegalArgumentException.class, () -> new KernelExport("v", 8192, 8192, false, false, false, false, true));
        assertThrows(IllegalArgumentException.class, () -> new KernelExport("v", 0, 512, false, false, false, false, true));
    }
}
