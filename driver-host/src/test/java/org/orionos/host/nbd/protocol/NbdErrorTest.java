package org.orionos.host.nbd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NbdErrorTest {
    @Test
    void mapsNegativeErrnoToTheProtocolsSet() {
        assertEquals(0, NbdError.fromErrno(0));
        assertEquals(NbdError.EPERM, NbdError.fromErrno(-1));
        assertEquals(NbdError.EPERM, NbdError.fromErrno(-13));   // EACCES
        assertEquals(NbdError.EPERM, NbdError.fromErrno(-30));   // EROFS
        assertEquals(NbdError.EIO, NbdError.fromErrno(-5));
        assertEquals(NbdError.ENOMEM, NbdError.fromErrno(-12));
        assertEquals(NbdError.EINVAL, NbdError.fromErrno(-22));
        assertEquals(NbdError.ENOSPC, NbdError.fromErrno(-28));
        assertEquals(NbdError.ENOSPC, NbdError.fromErrno(-27));  // EFBIG
        assertEquals(NbdError.ENOSPC, NbdError.fromErrno(-122)); // EDQUOT
        assertEquals(NbdError.EOVERFLOW, NbdError.fromErrno(-75));
        assertEquals(NbdError.ENOTSUP, NbdError.fromErrno(-95));
        assertEquals(NbdError.ESHUTDOWN, NbdError.fromErrno(-108));
        assertEquals(NbdError.EIO, NbdError.fromErrno(-61));     // ENODATA: anything else is EIO
        assertEquals(NbdError.EIO, NbdError.fromErrno(-4095));
        assertEquals(NbdError.EIO, NbdError.fromErrno(Integer.MIN_VALUE));
        assertEquals(NbdError.EINVAL, NbdError.fromErrno(22));
    }
}
