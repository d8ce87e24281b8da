package org.orionos.host.nbd.server;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

import org.orionos.bindings.Errno;
import org.orionos.bindings.ErrnoException;
import org.orionos.host.config.NbdSpec;
import org.orionos.host.nbd.protocol.TlsFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * STARTTLS with JSSE: an {@link SSLEngine} in server mode behind the {@link TlsFilter} hook.
 * Credentials are an X.509 certificate chain and private key in PEM, or a PKCS#12 keystore; with a
 * CA configured, clients must present a certificate that CA signed. TLS 1.2 and 1.3 only.
 *
 * <p>The engine's delegated tasks (key exchange) run inline on the connection's reactor: a few
 * milliseconds once per connection. Record encryption allocates inside JSSE; the TLS data path is
 * therefore not allocation-free, unlike the clear-text one.
 */
public final class JsseTlsFilter implements TlsFilter {
    private static final Logger LOG = LoggerFactory.getLogger(JsseTlsFilter.class);
    private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);

    private final SSLEngine engine;
    private boolean complete;

    private JsseTlsFilter(SSLEngine engine) {
        this.engine = engine;
    }

    /** A factory for {@code tls}, or null when there is no TLS configuration. */
    public static TlsFilter.Factory factoryFor(NbdSpec.Tls tls) {
        if (tls == null) {
            return null;
        }
        SSLContext ctx = context(tls);
        boolean clientAuth = tls.ca() != null;
        return () -> {
            SSLEngine e = ctx.createSSLEngine();
            e.setUseClientMode(false);
            e.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            if (clientAuth) {
                e.setNeedClientAuth(true);
            }
            return new JsseTlsFilter(e);
        };
    }

    private static SSLContext context(NbdSpec.Tls tls) {
        String what = tls.keystore() != null ? tls.keystore().toString() : tls.certificate() + " + " + tls.key();
        try {
            char[] pw = tls.password() == null ? new char[0] : tls.password().toCharArray();
            KeyStore ks;
            if (tls.keystore() != null) {
                ks = KeyStore.getInstance("PKCS12");
                try (InputStream in = Files.newInputStream(tls.keystore())) {
                    ks.load(in, pw);
                }
            } else {
                ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                List<Certificate> chain = certificates(tls.certificate());
                if (chain.isEmpty()) {
                    throw new GeneralSecurityException(tls.certificate() + " holds no PEM certificate");
                }
                ks.setKeyEntry("server", privateKey(tls.key()), pw, chain.toArray(new Certificate[0]));
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            TrustManagerFactory tmf = null;
            if (tls.ca() != null) {
                KeyStore ts = KeyStore.getInstance("PKCS12");
                ts.load(null, null);
                int i = 0;
                for (Certificate c : certificates(tls.ca())) {
                    ts.setCertificateEntry("ca" + i++, c);
                }
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(ts);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw ErrnoException.withMessage(Errno.EINVAL, "nbd tls", what,
                    "cannot load the NBD TLS credentials from " + what + ": " + e.getMessage());
        }
    }

    private static List<Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<Certificate> out = new ArrayList<>();
        try (InputStream in = Files.newInputStream(pem)) {
            out.addAll(cf.generateCertificates(in));
        }
        return out;
    }

    /** A PEM private key: PKCS#8 ("PRIVATE KEY") or PKCS#1 RSA ("RSA PRIVATE KEY", wrapped into PKCS#8). */
    private static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem);
        byte[] der;
        if ((der = block(text, "PRIVATE KEY")) != null) {
            PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
            for (String alg : new String[] {"RSA", "EC", "Ed25519", "Ed448"}) {
                try {
                    return KeyFactory.getInstance(alg).generatePrivate(spec);
                } catch (GeneralSecurityException e) {
                    // try the next algorithm
                }
            }
            throw new GeneralSecurityException(pem + ": unsupported PKCS#8 key algorithm");
        }
        if ((der = block(text, "RSA PRIVATE KEY")) != null) {
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs1ToPkcs8(der)));
        }
        throw new GeneralSecurityException(pem + ": no PEM 'PRIVATE KEY' or 'RSA PRIVATE KEY' block "
                + "(convert with: openssl pkcs8 -topk8 -nocrypt)");
    }

    private static byte[] block(String text, String type) {
        String begin = "-----BEGIN " + type + "-----";
        int b = text.indexOf(begin);
        if (b < 0) {
            return null;
        }
        int e = text.indexOf("-----END " + type + "-----", b);
        if (e < 0) {
            return null;
        }
        return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
    }

    /** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo (version 0, rsaEncryption, NULL). */
    private static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
        byte[] algId = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01,
            0x01, 0x05, 0x00};
        byte[] octet = der(0x04, pkcs1);
        byte[] version = {0x02, 0x01, 0x00};
        byte[] body = new byte[version.length + algId.length + octet.length];
        System.arraycopy(version, 0, body, 0, version.length);
        System.arraycopy(algId, 0, body, version.length, algId.length);
        System.arraycopy(octet, 0, body, version.length + algId.length, octet.length);
        return der(0x30, body);
    }

    private static byte[] der(int tag, byte[] content) {
        int n = content.length;
        byte[] len = n < 0x80 ? new byte[] {(byte) n}
                : n < 0x100 ? new byte[] {(byte) 0x81, (byte) n}
                : n < 0x10000 ? new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n}
                : new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
        byte[] out = new byte[1 + len.length + n];
        out[0] = (byte) tag;
        System.arraycopy(len, 0, out, 1, len.length);
        System.arraycopy(content, 0, out, 1 + len.length, n);
        return out;
    }

    // ---------------------------------------------------------------- TlsFilter

    @Override
    public long unwrap(MemorySegment net, long netLength, MemorySegment app) {
        ByteBuffer src = netLength == 0 ? EMPTY : net.asSlice(0, netLength).asByteBuffer();
        ByteBuffer dst = app.byteSize() == 0 ? EMPTY : app.asByteBuffer();
        long consumed = 0;
        long produced = 0;
        try {
            while (true) {
                SSLEngineResult r = engine.unwrap(src, dst);
                consumed += r.bytesConsumed();
                produced += r.bytesProduced();
                runTasks(r);
                noteFinished(r);
                switch (r.getStatus()) {
                    case CLOSED -> {
                        return consumed == 0 && produced == 0 ? -Errno.ESHUTDOWN : TlsFilter.result(consumed, produced);
                    }
                    case BUFFER_UNDERFLOW, BUFFER_OVERFLOW -> {
                        return TlsFilter.result(consumed, produced);
                    }
                    case OK -> {
                        if (r.bytesConsumed() == 0 && r.bytesProduced() == 0 || !src.hasRemaining()
                                || engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                            return TlsFilter.result(consumed, produced);
                        }
                    }
                }
            }
        } catch (SSLException e) {
            LOG.debug("TLS unwrap failed: {}", e.toString());
            return -Errno.EPROTO;
        }
    }

    @Override
    public long wrap(MemorySegment app, long appLength, MemorySegment net) {
        ByteBuffer src = appLength == 0 ? EMPTY : app.asSlice(0, appLength).asByteBuffer();
        ByteBuffer dst = net.asByteBuffer();
        try {
            SSLEngineResult r = engine.wrap(src, dst);
            runTasks(r);
            noteFinished(r);
            if (r.getStatus() == SSLEngineResult.Status.CLOSED && r.bytesProduced() == 0) {
                return -Errno.ESHUTDOWN;
            }
            return TlsFilter.result(r.bytesConsumed(), r.bytesProduced());
        } catch (SSLException e) {
            LOG.debug("TLS wrap failed: {}", e.toString());
            return -Errno.EPROTO;
        }
    }

    private void runTasks(SSLEngineResult r) {
        if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            Runnable t;
            while ((t = engine.getDelegatedTask()) != null) {
                t.run();
            }
        }
    }

    private void noteFinished(SSLEngineResult r) {
        if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
            complete = true;
        }
    }

    @Override
    public boolean handshakeComplete() {
        return complete;
    }

    @Override
    public boolean wantsWrap() {
        return engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP;
    }

    @Override
    public void closeOutbound() {
        engine.closeOutbound();
    }
}
