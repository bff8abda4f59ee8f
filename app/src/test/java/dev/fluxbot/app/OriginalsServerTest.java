package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.JobIds;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.imagestore.ImageStore;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ModelCatalog;
import dev.fluxbot.core.store.Database;
import dev.fluxbot.core.store.JobStore;
import dev.fluxbot.testkit.MutableClock;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web server for originals, in-process over a real socket, on a real job store and image store.
 */
class OriginalsServerTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final byte[] KEY =
      "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-21T12:00:00Z"));
  private final JobIds ids = new JobIds(clock, new Random(7));
  private final byte[] png = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 1, 2, 3, 4, 5};

  @TempDir Path dir;

  private Database db;
  private JobStore jobs;
  private ImageStore images;
  private SignedLinks links;
  private OriginalsServer server;
  private String base;

  @BeforeEach
  void start() {
    db = Database.sqlite(dir.resolve("fluxbot.db"));
    jobs = new JobStore(db, ModelCatalog.builtIn(), clock);
    images = ImageStore.onDisk(dir.resolve("images"));
    server = serve("http://127.0.0.1");
  }

  @AfterEach
  void stop() {
    server.close();
    db.close();
  }

  /**
   * A server whose links start with {@code publicUrl} (whose host is ignored: the test calls the
   * bound port).
   */
  private OriginalsServer serve(String publicUrl) {
    links = new SignedLinks(KEY, publicUrl, Duration.ofDays(7), clock);
    OriginalsServer s =
        OriginalsServer.start(new InetSocketAddress("127.0.0.1", 0), links, jobs, images, clock);
    base = "http://127.0.0.1:" + s.address().getPort();
    return s;
  }

  private String job(boolean withImage) {
    GenerationRequest request =
        new CommandParser(ModelCatalog.builtIn(), CommandParser.Settings.defaults())
            .parse("a fox --format png", Map.of(), 0)
            .withSeed(42);
    String id = ids.next();
    jobs.create(
        JobStore.Job.queued(
            id,
            new Requester("discord", "1", "alice", "9", Set.of(), false),
            "a fox",
            request,
            List.of(),
            null,
            null,
            1000,
            null,
            null,
            clock.instant()));
    if (withImage) {
      jobs.succeed(id, 1000, images.put(png), ImageType.PNG, 1024, 1024, false);
    } else {
      jobs.fail(id, new UserError(UserError.Code.MODERATED, "blocked"));
    }
    return id;
  }

  /** The link the server makes, sent to its bound port. */
  private URI local(URI link) {
    return URI.create(base + link.getRawPath() + "?" + link.getRawQuery());
  }

  private static HttpResponse<byte[]> get(URI uri) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  @Test
  void aSignedLinkAnswersTheStoredOriginalWithItsTypeAndAFileName() throws Exception {
    String id = job(true);
    URI link = links.linkFor(id);
    assertThat(link.toString())
        .matches("http://127\\.0\\.0\\.1/originals/" + id + "\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}");
    assertThat(link.getRawQuery())
        .startsWith("exp=" + clock.instant().plus(Duration.ofDays(7)).getEpochSecond() + "&");

    HttpResponse<byte[]> r = get(local(link));

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(png);
    assertThat(r.headers().firstValue("Content-Type")).contains("image/png");
    assertThat(r.headers().firstValue("Content-Disposition"))
        .contains("attachment; filename=\"fluxbot-42.png\"");
    assertThat(r.headers().firstValue("Cache-Control")).contains("private, max-age=604800");
    assertThat(r.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
  }

  @Test
  void headAnswersTheHeadersAlone() throws Exception {
    String id = job(true);
    HttpResponse<byte[]> r =
        HTTP.send(
            HttpRequest.newBuilder(local(links.linkFor(id)))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEmpty();
    assertThat(r.headers().firstValue("Content-Type")).contains("image/png");
  }

  @Test
  void aChangedSignatureJobOrExpiryIsRefusedWith403AndAPlainReason() throws Exception {
    String id = job(true);
    String other = job(true);
    URI link = links.linkFor(id);
    String query = link.getRawQuery();
    String sig = query.substring(query.indexOf("sig=") + 4);
    String flipped = (sig.charAt(0) == 'A' ? "B" : "A") + sig.substring(1);
    long exp = Long.parseLong(query.substring(4, query.indexOf('&')));

    List<URI> forged =
        List.of(
            URI.create(base + "/originals/" + id + "?exp=" + exp + "&sig=" + flipped),
            URI.create(base + "/originals/" + other + "?" + query),
            URI.create(base + "/originals/" + id + "?exp=" + (exp + 86_400) + "&sig=" + sig),
            URI.create(base + "/originals/" + id + "?exp=" + exp + "&sig=" + sig.substring(0, 20)),
            URI.create(base + "/originals/" + id + "?exp=" + exp),
            URI.create(base + "/originals/" + id),
            URI.create(base + "/originals/" + id + "?exp=soon&sig=" + sig));
    for (URI uri : forged) {
      HttpResponse<byte[]> r = get(uri);
      assertThat(r.statusCode()).as(uri.toString()).isEqualTo(403);
      assertThat(text(r))
          .as(uri.toString())
          .isEqualTo(
              "This link is not valid: its signature does not match. Use the "
                  + "Original button under the image; a link that was changed or cut short does not work.\n");
      assertThat(r.headers().firstValue("Content-Type")).contains("text/plain; charset=utf-8");
    }
  }

  @Test
  void aLinkPastItsTimeIsRefusedAndSaysWhenItExpiredAndWhatToDo() throws Exception {
    String id = job(true);
    URI link = links.linkFor(id);
    clock.advance(Duration.ofDays(7).minusSeconds(1));
    assertThat(get(local(link)).statusCode()).isEqualTo(200);

    clock.advance(Duration.ofSeconds(1));
    HttpResponse<byte[]> r = get(local(link));

    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(text(r))
        .isEqualTo(
            "This link expired at 2026-11-28T12:00:00Z; links to originals work for 7 days. Ask "
                + "the bot's admin for the original of job "
                + id
                + " (fluxbot jobs show "
                + id
                + " -o FILE).\n");
  }

  @Test
  void aSignedLinkToAJobWithoutAnImageOrWithItsImageGoneIs404() throws Exception {
    String failed = job(false);
    HttpResponse<byte[]> none = get(local(links.linkFor(failed)));
    assertThat(none.statusCode()).isEqualTo(404);
    assertThat(text(none)).isEqualTo("Job " + failed + " has no image on this server.\n");

    String id = job(true);
    images.delete(jobs.find(id).orElseThrow().imageHash());
    HttpResponse<byte[]> gone = get(local(links.linkFor(id)));
    assertThat(gone.statusCode()).isEqualTo(404);
    assertThat(text(gone))
        .isEqualTo("The original of job " + id + " is no longer stored on this server.\n");

    String unknown = ids.next();
    assertThat(get(local(links.linkFor(unknown))).statusCode()).isEqualTo(404);
  }

  @Test
  void otherPathsAre404AndOtherMethods405() throws Exception {
    for (String path :
        List.of(
            "/",
            "/originals/",
            "/originals/not-a-job-id",
            "/originals/../fluxbot.db",
            "/favicon.ico")) {
      HttpResponse<byte[]> r = get(URI.create(base + path));
      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(text(r))
          .startsWith("Not found. This server only serves originals of fluxbot images");
    }
    String id = job(true);
    HttpResponse<byte[]> post =
        HTTP.send(
            HttpRequest.newBuilder(local(links.linkFor(id)))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).contains("GET, HEAD");
  }

  @Test
  void underAPublicUrlWithAPathTheServerAnswersBelowThatPath() throws Exception {
    server.close();
    server = serve("https://example.com/fluxbot");
    String id = job(true);
    URI link = links.linkFor(id);
    assertThat(link.toString()).startsWith("https://example.com/fluxbot/originals/" + id + "?exp=");

    assertThat(get(local(link)).body()).isEqualTo(png);
    assertThat(get(URI.create(base + "/originals/" + id + "?" + link.getRawQuery())).statusCode())
        .isEqualTo(404);
  }

  @Test
  void aPortInUseIsAClearConfigError() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                OriginalsServer.start(
                    new InetSocketAddress("127.0.0.1", server.address().getPort()),
                    links,
                    jobs,
                    images,
                    clock))
        .isInstanceOf(FluxbotConfig.ConfigException.class)
        .hasMessageStartingWith(
            "web.listen: cannot listen on 127.0.0.1:" + server.address().getPort() + " (")
        .hasMessageEndingWith("); pick a free port, or an address of this machine.");
  }
}
