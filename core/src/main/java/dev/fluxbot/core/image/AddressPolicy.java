package dev.fluxbot.core.image;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import okhttp3.Dns;
import okhttp3.Interceptor;

/**
 * Which addresses a reference may be downloaded from. Public addresses only, unless an admin
 * permits a host name or a network: a link a user gives must not reach the bot's own machine, its
 * LAN or a cloud's metadata service (server-side request forgery).
 *
 * <p>Refused: unspecified ({@code 0.0.0.0/8}, {@code ::}), loopback, private ({@code 10/8}, {@code
 * 172.16/12}, {@code 192.168/16}, {@code fc00::/7}, {@code fec0::/10}), shared ({@code 100.64/10}),
 * link-local ({@code 169.254/16}, {@code fe80::/10}), multicast and broadcast; an IPv6 address that
 * carries an IPv4 one (mapped, compatible, NAT64 {@code 64:ff9b::/96}, 6to4 {@code 2002::/16}) is
 * judged by that IPv4 address.
 *
 * <p>Enforced three times, so neither a redirect nor DNS rebinding gets past: an IP literal is
 * checked before its request, a host name's resolved addresses are filtered before OkHttp connects
 * (it connects only to what {@link #dns} returns), and the address actually connected to is checked
 * before a request is sent on it ({@link #interceptor}).
 */
public final class AddressPolicy {
  private static final AddressPolicy PUBLIC_ONLY = new AddressPolicy(List.of(), List.of());

  private final List<String> hosts;
  private final List<Network> networks;

  private AddressPolicy(List<String> hosts, List<Network> networks) {
    this.hosts = List.copyOf(hosts);
    this.networks = List.copyOf(networks);
  }

  /** Public addresses only: the default. */
  public static AddressPolicy publicOnly() {
    return PUBLIC_ONLY;
  }

  /**
   * Public addresses, and these: each entry a host name ({@code images.lan}), an address ({@code
   * 192.168.1.20}, {@code ::1}) or a network in CIDR form ({@code 10.0.0.0/8}).
   *
   * @param field the setting the entries came from, named in errors
   * @throws IllegalArgumentException naming the field, the rule and the entry
   */
  public static AddressPolicy permitting(String field, List<String> entries) {
    List<String> hosts = new ArrayList<>();
    List<Network> networks = new ArrayList<>();
    for (String raw : entries) {
      String entry = raw == null ? "" : raw.strip();
      if (entry.isEmpty()) {
        throw new IllegalArgumentException(
            field
                + ": an entry is empty; give a host name, an address or a "
                + "network like 10.0.0.0/8");
      }
      if (entry.contains("://")) {
        throw new IllegalArgumentException(
            field
                + ": must be a host name, an address or a network like 10.0.0.0/8, "
                + "not a URL; got \""
                + entry
                + "\"");
      }
      Optional<Network> network = Network.parse(field, entry);
      if (network.isPresent()) {
        networks.add(network.get());
      } else if (entry.matches(
          "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")) {
        hosts.add(entry.toLowerCase(Locale.ROOT));
      } else {
        throw new IllegalArgumentException(
            field
                + ": must be a host name, an address or a network like 10.0.0.0/8; "
                + "got \""
                + entry
                + "\"");
      }
    }
    return hosts.isEmpty() && networks.isEmpty() ? PUBLIC_ONLY : new AddressPolicy(hosts, networks);
  }

  /**
   * Why {@code address}, reached through {@code host}, may not be fetched from ("a loopback
   * address"); empty where it may.
   */
  public Optional<String> refusal(String host, InetAddress address) {
    if (host != null && hosts.contains(strip(host).toLowerCase(Locale.ROOT))) {
      return Optional.empty();
    }
    Optional<String> kind = nonPublicKind(address.getAddress());
    if (kind.isEmpty() || networks.stream().anyMatch(n -> n.contains(address.getAddress()))) {
      return Optional.empty();
    }
    return kind;
  }

  /**
   * An IP literal host, checked before any connection; empty for a name (its addresses are checked
   * on lookup).
   */
  Optional<Refused> refusalOfLiteral(String host) {
    String h = strip(host);
    if (!isIpLiteral(h)) {
      return Optional.empty();
    }
    try {
      InetAddress address = InetAddress.getByName(h); // a literal: parsed, never looked up
      return refusal(h, address).map(why -> new Refused(address, why));
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }

  /**
   * {@code delegate}'s lookup without the addresses this policy refuses; refused outright when none
   * is left.
   */
  Dns dns(Dns delegate) {
    return hostname -> {
      List<InetAddress> all = delegate.lookup(hostname);
      List<InetAddress> kept = all.stream().filter(a -> refusal(hostname, a).isEmpty()).toList();
      if (kept.isEmpty() && !all.isEmpty()) {
        throw new Refused(all.get(0), refusal(hostname, all.get(0)).orElseThrow());
      }
      return kept;
    };
  }

  /** A network interceptor: refuses to send a request on a connection to a refused address. */
  Interceptor interceptor() {
    return chain -> {
      InetAddress connected =
          chain.connection() == null
              ? null
              : chain.connection().route().socketAddress().getAddress();
      if (connected != null) {
        Optional<String> why = refusal(chain.request().url().host(), connected);
        if (why.isPresent()) {
          throw new Refused(connected, why.get());
        }
      }
      return chain.proceed(chain.request());
    };
  }

  /** A download refused for where it leads; carries the address and its kind, never the URL. */
  static final class Refused extends UnknownHostException {
    private final transient InetAddress address;
    private final String kind;

    Refused(InetAddress address, String kind) {
      super("refused: " + kind);
      this.address = address;
      this.kind = kind;
    }

    String address() {
      return address.getHostAddress();
    }

    String kind() {
      return kind;
    }
  }

  /** What kind of non-public address these bytes are (4 or 16 of them); empty for a public one. */
  static Optional<String> nonPublicKind(byte[] a) {
    if (a.length == 16) {
      byte[] v4 = embeddedIpv4(a);
      return v4 != null ? nonPublicKind(v4) : ipv6Kind(a);
    }
    int b0 = a[0] & 0xff;
    int b1 = a[1] & 0xff;
    if (b0 == 0) {
      return Optional.of("an unspecified address");
    }
    if (b0 == 127) {
      return Optional.of("a loopback address");
    }
    if (b0 == 10 || (b0 == 172 && (b1 & 0xf0) == 16) || (b0 == 192 && b1 == 168)) {
      return Optional.of("a private network address");
    }
    if (b0 == 100 && (b1 & 0xc0) == 64) {
      return Optional.of("a shared (carrier-grade NAT) address");
    }
    if (b0 == 169 && b1 == 254) {
      return Optional.of("a link-local address (cloud metadata services live there)");
    }
    if (b0 >= 224 && b0 <= 239) {
      return Optional.of("a multicast address");
    }
    if (b0 >= 240) {
      return Optional.of("a reserved or broadcast address");
    }
    return Optional.empty();
  }

  private static Optional<String> ipv6Kind(byte[] a) {
    boolean allZero = true;
    for (int i = 0; i < 15; i++) {
      allZero &= a[i] == 0;
    }
    if (allZero && a[15] == 0) {
      return Optional.of("an unspecified address");
    }
    if (allZero && a[15] == 1) {
      return Optional.of("a loopback address");
    }
    int b0 = a[0] & 0xff;
    int b1 = a[1] & 0xff;
    if ((b0 & 0xfe) == 0xfc || (b0 == 0xfe && (b1 & 0xc0) == 0xc0)) {
      return Optional.of("a private network address");
    }
    if (b0 == 0xfe && (b1 & 0xc0) == 0x80) {
      return Optional.of("a link-local address");
    }
    if (b0 == 0xff) {
      return Optional.of("a multicast address");
    }
    return Optional.empty();
  }

  /**
   * The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4); null where it carries
   * none.
   */
  private static byte[] embeddedIpv4(byte[] a) {
    boolean firstTenZero = true;
    for (int i = 0; i < 10; i++) {
      firstTenZero &= a[i] == 0;
    }
    boolean mapped = firstTenZero && (a[10] & 0xff) == 0xff && (a[11] & 0xff) == 0xff;
    boolean compatible =
        firstTenZero && a[10] == 0 && a[11] == 0 && ((a[12] | a[13]) != 0 || (a[14] & 0xff) > 1);
    boolean nat64 =
        (a[0] & 0xff) == 0x00
            && (a[1] & 0xff) == 0x64
            && (a[2] & 0xff) == 0xff
            && (a[3] & 0xff) == 0x9b
            && a[4] == 0
            && a[5] == 0
            && a[6] == 0
            && a[7] == 0
            && a[8] == 0
            && a[9] == 0
            && a[10] == 0
            && a[11] == 0;
    if (mapped || compatible || nat64) {
      return new byte[] {a[12], a[13], a[14], a[15]};
    }
    if ((a[0] & 0xff) == 0x20 && (a[1] & 0xff) == 0x02) { // 6to4: 2002:AABB:CCDD::/48
      return new byte[] {a[2], a[3], a[4], a[5]};
    }
    return null;
  }

  /** A dotted-quad IPv4 or an IPv6 literal: parsed by InetAddress without a DNS lookup. */
  private static boolean isIpLiteral(String host) {
    return host.matches("\\d{1,3}(\\.\\d{1,3}){3}")
        || (host.contains(":") && host.matches("[0-9A-Fa-f:.]+"));
  }

  private static String strip(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /** An address with a prefix length. */
  private record Network(byte[] base, int prefix) {
    static Optional<Network> parse(String field, String entry) {
      int slash = entry.indexOf('/');
      String address = strip(slash < 0 ? entry : entry.substring(0, slash));
      if (!isIpLiteral(address)) {
        if (slash >= 0) {
          throw new IllegalArgumentException(
              field
                  + ": a network must be an address and a prefix length like "
                  + "10.0.0.0/8 or fd00::/8; got \""
                  + entry
                  + "\"");
        }
        return Optional.empty();
      }
      byte[] bytes;
      try {
        bytes = InetAddress.getByName(address).getAddress();
      } catch (UnknownHostException e) {
        return Optional.empty();
      }
      int bits = bytes.length * 8;
      int prefix = bits;
      if (slash >= 0) {
        String length = entry.substring(slash + 1);
        if (!length.matches("\\d{1,3}") || Integer.parseInt(length) > bits) {
          throw new IllegalArgumentException(
              field
                  + ": the prefix length after / must be 0 to "
                  + bits
                  + "; got \""
                  + entry
                  + "\"");
        }
        prefix = Integer.parseInt(length);
      }
      return Optional.of(new Network(bytes, prefix));
    }

    boolean contains(byte[] address) {
      if (address.length != base.length) {
        return false;
      }
      for (int bit = 0; bit < prefix; bit++) {
        int mask = 0x80 >>> (bit % 8);
        if ((address[bit / 8] & mask) != (base[bit / 8] & mask)) {
          return false;
        }
      }
      return true;
    }
  }

  @Override
  public String toString() {
    return "AddressPolicy[public"
        + (hosts.isEmpty() ? "" : ", hosts " + hosts)
        + (networks.isEmpty() ? "" : ", " + networks.size() + " network(s)")
        + "]";
  }
}
