package dev.fluxbot.core.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

class UnreachableTest {
  @Test
  void aRealRefusedConnectionIsSaidInWords() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    IOException refused;
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
      throw new AssertionError("connected to a closed port");
    } catch (IOException e) {
      refused = e;
    }
    RuntimeException wrapped = new IllegalStateException("sdk", new RuntimeException(refused));

    assertThat(Unreachable.cause(wrapped)).containsSame(refused);
    assertThat(Unreachable.message("Telegram", "getMe", refused, "api.telegram.org"))
        .isEqualTo(
            "Telegram could not be reached for getMe (connection refused). Check this machine's"
                + " network and DNS (api.telegram.org must be reachable), then run again.");
  }

  @Test
  void eachKindOfFailureHasItsWordsAndNoUrlLeaks() {
    assertThat(Unreachable.reason(new UnknownHostException("api.telegram.org")))
        .isEqualTo("unknown host api.telegram.org (DNS)");
    assertThat(
            Unreachable.reason(
                new UnknownHostException("https://x.invalid/bot123:SECRET/getMe: not known")))
        .doesNotContain("SECRET");
    assertThat(Unreachable.reason(new SocketTimeoutException("read timed out")))
        .isEqualTo("timed out");
    assertThat(Unreachable.reason(new ConnectException("Failed to connect")))
        .isEqualTo("connection refused");
    assertThat(Unreachable.cause(new IllegalStateException("no network here"))).isEmpty();
  }
}
