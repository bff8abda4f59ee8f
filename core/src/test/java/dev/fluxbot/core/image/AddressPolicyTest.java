package dev.fluxbot.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AddressPolicyTest {
  private static Optional<String> kind(AddressPolicy policy, String literal) throws Exception {
    return policy.refusal(null, InetAddress.getByName(literal));
  }

  @Test
  void everyNonPublicFormIsRefusedInIpv4AndIpv6() throws Exception {
    Map<String, String> refused =
        Map.ofEntries(
            Map.entry("0.0.0.0", "an unspecified address"),
            Map.entry("::", "an unspecified address"),
            Map.entry("127.0.0.1", "a loopback address"),
            Map.entry("127.255.0.9", "a loopback address"),
            Map.entry("::1", "a loopback address"),
            Map.entry("::ffff:127.0.0.1", "a loopback address"),
            Map.entry("::127.0.0.1", "a loopback address"),
            Map.entry("64:ff9b::7f00:1", "a loopback address"),
            Map.entry("2002:7f00:1::1", "a loopback address"),
            Map.entry("10.0.0.1", "a private network address"),
            Map.entry("172.16.5.4", "a private network address"),
            Map.entry("172.31.255.255", "a private network address"),
            Map.entry("192.168.1.1", "a private network address"),
            Map.entry("fc00::1", "a private network address"),
            Map.entry("fd12:3456::1", "a private network address"),
            Map.entry("fec0::1", "a private network address"),
            Map.entry("::ffff:10.0.0.1", "a private network address"),
            Map.entry("100.64.0.1", "a shared (carrier-grade NAT) address"),
            Map.entry(
                "169.254.169.254", "a link-local address (cloud metadata services live there)"),
            Map.entry("fe80::1", "a link-local address"),
            Map.entry("224.0.0.1", "a multicast address"),
            Map.entry("ff02::1", "a multicast address"),
            Map.entry("255.255.255.255", "a reserved or broadcast address"));
    for (var e : refused.entrySet()) {
      assertThat(kind(AddressPolicy.publicOnly(), e.getKey()))
          .as(e.getKey())
          .contains(e.getValue());
    }
    for (String ok :
        List.of(
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2001:4860:4860::8888",
            "2606:4700::1111",
            "::ffff:8.8.8.8")) {
      assertThat(kind(AddressPolicy.publicOnly(), ok)).as(ok).isEmpty();
    }
  }

  @Test
  void permittedHostsAndNetworksPassAndNothingElseDoes() throws Exception {
    AddressPolicy p =
        AddressPolicy.permitting(
            "references.permitted_hosts",
            List.of("10.20.0.0/16", "images.LAN", "[fd00::]/8", "192.168.1.7"));
    assertThat(kind(p, "10.20.3.4")).isEmpty();
    assertThat(kind(p, "10.21.3.4")).contains("a private network address");
    assertThat(kind(p, "fd99::1")).isEmpty();
    assertThat(kind(p, "192.168.1.7")).isEmpty();
    assertThat(kind(p, "192.168.1.8")).contains("a private network address");
    assertThat(p.refusal("images.lan", InetAddress.getByName("127.0.0.1"))).isEmpty();
    assertThat(p.refusal("other.lan", InetAddress.getByName("127.0.0.1")))
        .contains("a loopback address");
  }

  @Test
  void aMalformedEntryNamesTheSettingAndTheEntry() {
    assertThatThrownBy(
            () -> AddressPolicy.permitting("references.permitted_hosts", List.of("10.0.0.0/33")))
        .hasMessage(
            "references.permitted_hosts: the prefix length after / must be 0 to 32; got \"10.0.0.0/33\"");
    assertThatThrownBy(
            () -> AddressPolicy.permitting("references.permitted_hosts", List.of("lan/8")))
        .hasMessageStartingWith(
            "references.permitted_hosts: a network must be an address and a prefix length");
    assertThatThrownBy(
            () -> AddressPolicy.permitting("references.permitted_hosts", List.of("http://x")))
        .hasMessage(
            "references.permitted_hosts: must be a host name, an address or a network like 10.0.0.0/8, "
                + "not a URL; got \"http://x\"");
    assertThatThrownBy(
            () -> AddressPolicy.permitting("references.permitted_hosts", List.of("bad host")))
        .hasMessage(
            "references.permitted_hosts: must be a host name, an address or a network like 10.0.0.0/8; "
                + "got \"bad host\"");
  }

  @Test
  void aLiteralIsJudgedWithoutALookupAndANameIsLeftToTheLookup() {
    assertThat(AddressPolicy.publicOnly().refusalOfLiteral("[::1]"))
        .map(AddressPolicy.Refused::kind)
        .contains("a loopback address");
    assertThat(AddressPolicy.publicOnly().refusalOfLiteral("169.254.169.254")).isPresent();
    assertThat(AddressPolicy.publicOnly().refusalOfLiteral("example.com")).isEmpty();
  }
}
