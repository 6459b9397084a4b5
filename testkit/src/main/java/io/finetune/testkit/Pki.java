package io.finetune.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Key material of one control plane, made with openssl (the JDK cannot sign an X.509 certificate without internals):
 * a self-signed serving certificate for 127.0.0.1 (also the CA clients trust), and the RSA key pair that signs and
 * verifies service-account tokens.
 */
record Pki(Path servingCert, Path servingKey, Path saPrivateKey, Path saPublicKey) {

    static Pki create(Path dir) {
        Path crt = dir.resolve("serving.crt");
        Path key = dir.resolve("serving.key");
        Path saKey = dir.resolve("sa.key");
        Path saPub = dir.resolve("sa.pub");
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7",
                "-keyout", key.toString(), "-out", crt.toString(),
                "-subj", "/CN=finetune-testkit-apiserver",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
        openssl(dir, "genrsa", "-out", saKey.toString(), "2048");
        openssl(dir, "rsa", "-in", saKey.toString(), "-pubout", "-out", saPub.toString());
        return new Pki(crt, key, saKey, saPub);
    }

    /** A random bearer token (hex). */
    static String randomToken() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** TLS context trusting exactly the serving certificate. */
    SSLContext sslContext() {
        try (InputStream in = Files.newInputStream(servingCert)) {
            Certificate cert = CertificateFactory.getInstance("X.509").generateCertificate(in);
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            ks.setCertificateEntry("apiserver", cert);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new ControlPlaneException("cannot load " + servingCert + ": " + e.getMessage(), e);
        }
    }

    private static void openssl(Path dir, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new ControlPlaneException("openssl " + args[0] + " failed: "
                        + new String(out, StandardCharsets.UTF_8).strip());
            }
        } catch (IOException e) {
            throw new ControlPlaneException("cannot run openssl (install it: apt-get install openssl): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ControlPlaneException("interrupted while running openssl", e);
        }
    }
}
