package io.finetune.trainer.distributed;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;

/**
 * Where this rank's Gloo TCP device listens: the network interface named by {@value #IFACE_ENV} (or torch's
 * {@value #TORCH_IFACE_ENV}), else the loopback address when rank 0 is on loopback (one machine: tests, {@code run
 * --nproc}), else the address this host's name resolves to (in a pod: the pod IP, which peers reach it at).
 *
 * @param hostname the address to bind when {@code iface} is empty
 * @param iface the interface to bind, or empty
 */
record TransportEndpoint(String hostname, String iface) {
    /** The interface to bind, e.g. {@code eth0}. */
    static final String IFACE_ENV = "FINETUNE_GLOO_IFACE";
    /** torch.distributed's name for the same setting, honoured so that existing launch configurations carry over. */
    static final String TORCH_IFACE_ENV = "GLOO_SOCKET_IFNAME";

    static TransportEndpoint choose(Map<String, String> env, String masterAddress, int rank, int worldSize) {
        for (String name : new String[] {IFACE_ENV, TORCH_IFACE_ENV}) {
            String iface = env.get(name);
            if (iface != null && !iface.isBlank()) {
                return new TransportEndpoint("", iface.trim());
            }
        }
        InetAddress master = loopbackOrNull(masterAddress);
        if (master != null) {
            return new TransportEndpoint(master.getHostAddress(), "");
        }
        try {
            return new TransportEndpoint(InetAddress.getLocalHost().getHostAddress(), "");
        } catch (UnknownHostException e) {
            throw CollectiveException.of(rank, worldSize, "cannot resolve this host's name to an address for Gloo ("
                    + e.getMessage() + "): set " + IFACE_ENV + " to the network interface peers reach this host on");
        }
    }

    /** The master's address when it resolves to a loopback address, else null (also when it does not resolve yet). */
    static InetAddress loopbackOrNull(String masterAddress) {
        try {
            InetAddress address = InetAddress.getByName(masterAddress);
            return address.isLoopbackAddress() ? address : null;
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
