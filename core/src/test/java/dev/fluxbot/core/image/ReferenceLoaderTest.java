package dev.fluxbot.core.image;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.offset;
import static org.assertj.core.api.Assertions.within;

import dev.fluxbot.core.ImageSource;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.image.ReferenceLoader.Limits;
import dev.fluxbot.core.model.ImageType;
import dev.fluxbot.core.model.ReferenceImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.OkHttpClient;
import okio.Buffer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ReferenceLoaderTest {
  private static final OkHttpClient HTTP = new OkHttpClient();

  /** Where a Telegram file URL keeps the bot token: no message may ever show any of this. */
  private static final String SECRET_PATH = "/file/bot123:SECRET/photos/file_7.png?sig=QUERYSECRET";

  private static final Map<String, String> SECRET_HEADERS =
      Map.of("Authorization", "Bearer xoxb-HEADERSECRET", "X-Extra", "extra-HEADERSECRET");
  private static final List<String> NEVER_SHOWN =
      List.of("SECRET", "bot123", "file_7", "photos", "sig=", "xoxb", "localhost", "127.0.0.1");

  private MockWebServer server;

  @BeforeEach
  void startServer() throws Exception {
    server = new MockWebServer();
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.close();
  }

  // ---- what loads

  @Test
  void smallPngIsServedAndPassesThroughUntouched() throws Exception {
    byte[] png = TestImages.png(64, 48);
    server.enqueue(ok(png));

    ReferenceImage image = loader().fetch(remote("image1"));

    assertThat(image.label()).isEqualTo("image1");
    assertThat(image.type()).isEqualTo(ImageType.PNG);
    assertThat(image.width()).isEqualTo(64);
    assertThat(image.height()).isEqualTo(48);
    assertThat(image.bytes()).isEqualTo(png);
    assertThat(image.sha256()).isEqualTo(sha256(png));
    RecordedRequest request = server.takeRequest(1, TimeUnit.SECONDS);
    assertThat(request.getMethod()).isEqualTo("GET");
    assertThat(request.getTarget()).isEqualTo(SECRET_PATH);
    assertThat(request.getHeaders().get("Authorization")).isEqualTo("Bearer xoxb-HEADERSECRET");
    assertThat(request.getHeaders().get("X-Extra")).isEqualTo("extra-HEADERSECRET");
  }

  @Test
  void largeJpegIsDownscaledToFourMegapixelsKeepingItsRatio() throws Exception {
    server.enqueue(ok(TestImages.jpeg(3000, 2000)));

    ReferenceImage image = loader().fetch(remote("image1"));

    assertThat(image.type()).isEqualTo(ImageType.JPEG);
    assertThat(image.pixels()).isLessThanOrEqualTo(4L * 1024 * 1024).isGreaterThan(4_150_000L);
    assertThat((double) image.width() / image.height()).isCloseTo(1.5, offset(0.002));
    BufferedImage decoded = decode(image);
    assertThat(decoded.getWidth()).isEqualTo(image.width());
    assertThat(decoded.getHeight()).isEqualTo(image.height());
    assertThat(decoded.getRGB(10, image.height() / 2)).satisfies(c -> assertMostly(c, 0xff0000));
    assertThat(decoded.getRGB(image.width() - 10, image.height() / 2))
        .satisfies(c -> assertMostly(c, 0x0000ff));
    assertThat(image.sha256()).isEqualTo(sha256(image.bytes()));
  }

  @Test
  void sidewaysJpegIsTurnedUprightWhenReencoded() throws Exception {
    byte[] photo = TestImages.withExifOrientation(TestImages.jpeg(3000, 2000), 6);
    assertThat(ExifOrientation.read(photo)).isEqualTo(6);
    server.enqueue(ok(photo));

    ReferenceImage image = loader().fetch(remote("image1"));

    assertThat(image.width()).isLessThan(image.height());
    BufferedImage decoded = decode(image);
    assertThat(decoded.getRGB(image.width() / 2, 10))
        .satisfies(c -> assertMostly(c, 0xff0000)); // left went up
    assertThat(decoded.getRGB(image.width() / 2, image.height() - 10))
        .satisfies(c -> assertMostly(c, 0x0000ff));
  }

  @Test
  void opaqueWebpOverFourMegapixelsIsReencodedAsJpeg() throws Exception {
    server.enqueue(ok(TestImages.webpSolid(2600, 2000, 0xff2080c0)));

    ReferenceImage image = loader().fetch(remote("image1"));

    assertThat(image.type()).isEqualTo(ImageType.JPEG);
    assertThat(image.pixels()).isLessThanOrEqualTo(4L * 1024 * 1024);
    assertThat((double) image.width() / image.height()).isCloseTo(1.3, offset(0.002));
    assertThat(decode(image).getRGB(100, 100)).satisfies(c -> assertMostly(c, 0x2080c0));
  }

  @Test
  void translucentWebpOverFourMegapixelsIsReencodedAsPng() throws Exception {
    server.enqueue(ok(TestImages.webpSolid(2600, 2000, 0x80ff0000)));

    ReferenceImage image = loader().fetch(remote("image1"));

    assertThat(image.type()).isEqualTo(ImageType.PNG);
    assertThat(image.pixels()).isLessThanOrEqualTo(4L * 1024 * 1024);
    int argb = decode(image).getRGB(50, 50);
    assertThat(argb >>> 24).isBetween(0x7e, 0x82);
    assertThat((argb >>> 16) & 0xff).isGreaterThan(0xf0);
  }

  @Test
  void inlineBytesAreLoadedAsTheyAre() {
    byte[] jpeg = TestImages.jpeg(40, 30);
    ReferenceImage image = loader().fetch(ImageSource.bytes("upload.jpg", jpeg));
    assertThat(image.type()).isEqualTo(ImageType.JPEG);
    assertThat(image.bytes()).isEqualTo(jpeg);
    assertThat(server.getRequestCount()).isZero();
  }

  // ---- what is refused, and how it is said

  @Test
  void anImageCutShortInItsPixelDataIsRefusedThoughItsHeaderIsWhole() {
    byte[][] whole = {
      TestImages.jpeg(600, 400),
      TestImages.png(600, 400),
      TestImages.webpSolid(600, 400, 0xff2080c0)
    };
    String[] names = {"JPEG", "PNG", "WebP"};
    for (int i = 0; i < whole.length; i++) {
      byte[] cut = java.util.Arrays.copyOf(whole[i], whole[i].length * 2 / 3);
      assertThat(ImageInfo.probe(cut)).as("the header still reads").isPresent();
      String label = "upload" + i;
      UserError error = refusal(() -> loader().fetch(ImageSource.bytes(label, cut)));
      assertThat(error.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
      assertThat(error.getMessage())
          .as(names[i])
          .contains("could not be decoded")
          .contains("re-save or re-upload it");
      assertThat(loader().fetch(ImageSource.bytes("whole" + i, whole[i])).bytes())
          .isEqualTo(whole[i]);
    }
  }

  @Test
  void gifIsRefusedNamingItsMagic() {
    server.enqueue(ok(TestImages.gif(10, 10)));
    UserError error = refusal(() -> loader().fetch(remote("image1")));
    assertThat(error.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
    assertThat(error)
        .hasMessage(
            "image1: the file is not a PNG, JPEG or WebP image: it starts with \"GIF89a\" "
                + "(a GIF); convert it to PNG or JPEG and send it again");
  }

  @Test
  void plainTextIsRefusedNamingHowItStarts() {
    server.enqueue(ok("hello, this is not a picture".getBytes(US_ASCII)));
    UserError error = refusal(() -> loader().fetch(remote("image2")));
    assertThat(error.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
    assertThat(error)
        .hasMessage(
            "image2: the file is not a PNG, JPEG or WebP image: it starts with \"hello, t\"; "
                + "convert it to PNG or JPEG and send it again");
  }

  @Test
  void emptyBodyIsRefused() {
    server.enqueue(ok(new byte[0]));
    assertThat(refusal(() -> loader().fetch(remote("image1"))))
        .hasMessage("image1: the file is empty; send a PNG, JPEG or WebP image");
  }

  @Test
  void bodyOverTheCapIsRefusedByItsContentLength() {
    server.enqueue(ok(new byte[3000]));
    UserError error = refusal(() -> loader(limits(2048)).fetch(remote("image1")));
    assertThat(error.code()).isEqualTo(UserError.Code.IMAGE_TOO_LARGE);
    assertThat(error)
        .hasMessage(
            "image1: the file is 2.9 KB, over the 2 KB limit for references; send a smaller image");
  }

  @Test
  void chunkedBodyOverTheCapIsRefusedWhileReading() {
    byte[] noise = new byte[3000];
    new java.util.Random(1).nextBytes(noise);
    server.enqueue(new MockResponse.Builder().chunkedBody(new Buffer().write(noise), 512).build());
    UserError error = refusal(() -> loader(limits(2048)).fetch(remote("image1")));
    assertThat(error.code()).isEqualTo(UserError.Code.IMAGE_TOO_LARGE);
    assertThat(error)
        .hasMessage(
            "image1: the download is over the 2 KB limit for references; send a smaller image");
  }

  @Test
  void bodyOfExactlyTheCapIsRead() {
    byte[] png = TestImages.png(20, 20);
    server.enqueue(new MockResponse.Builder().chunkedBody(new Buffer().write(png), 100).build());
    assertThat(loader(limits(png.length)).fetch(remote("image1")).bytes()).isEqualTo(png);
  }

  @Test
  void declaredSizeOverTheCapIsRefusedWithoutARequest() {
    ImageSource source =
        new ImageSource.Remote(
            "image1", uri(SECRET_PATH), SECRET_HEADERS, OptionalLong.of(25L * 1024 * 1024));
    UserError error = refusal(() -> loader().fetch(source));
    assertThat(error.code()).isEqualTo(UserError.Code.IMAGE_TOO_LARGE);
    assertThat(error)
        .hasMessage(
            "image1: the file is 25 MB, over the 20 MB limit for references; send a smaller image");
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void inlineBytesOverTheCapAreRefused() {
    UserError error =
        refusal(() -> loader(limits(2048)).fetch(ImageSource.bytes("upload.png", new byte[3000])));
    assertThat(error.code()).isEqualTo(UserError.Code.IMAGE_TOO_LARGE);
    assertThat(error)
        .hasMessage(
            "upload.png: the file is 2.9 KB, over the 2 KB limit for references; send a smaller image");
  }

  @Test
  void pixelBombIsRefusedBeforeDecoding() {
    byte[] bomb = TestImages.pngClaiming(20000, 20000, TestImages.tinyDeflate());
    assertThat(bomb.length).isLessThan(200);
    server.enqueue(ok(bomb));
    UserError error = refusal(() -> loader().fetch(remote("image1")));
    assertThat(error.code()).isEqualTo(UserError.Code.IMAGE_TOO_LARGE);
    assertThat(error)
        .hasMessage(
            "image1: 20000×20000 is 381.5 MP, over the 64 MP limit for references; "
                + "send a smaller image");
  }

  @Test
  void pixelCapMessageMatchesTheIssueExample() {
    UserError error =
        refusal(
            () ->
                loader()
                    .fetch(
                        ImageSource.bytes(
                            "image1",
                            TestImages.pngClaiming(12000, 12000, TestImages.tinyDeflate()))));
    assertThat(error)
        .hasMessage(
            "image1: 12000×12000 is 137.3 MP, over the 64 MP limit for references; "
                + "send a smaller image");
  }

  @Test
  void cutOffJpegHeaderIsRefusedAsDamaged() {
    byte[] jpeg = TestImages.jpeg(40, 30);
    UserError error =
        refusal(
            () -> loader().fetch(ImageSource.bytes("image1", java.util.Arrays.copyOf(jpeg, 40))));
    assertThat(error.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
    assertThat(error)
        .hasMessage(
            "image1: the JPEG header could not be read (the file is cut off or damaged); "
                + "re-save or re-upload it");
  }

  @Test
  void corruptPngWithAValidHeaderIsRefusedAsUndecodable() {
    byte[] garbage = new byte[500];
    new java.util.Random(7).nextBytes(garbage);
    server.enqueue(ok(TestImages.pngClaiming(3000, 2000, garbage)));
    UserError error = refusal(() -> loader().fetch(remote("image1")));
    assertThat(error.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
    assertThat(error.getMessage())
        .startsWith("image1: the PNG could not be decoded (")
        .endsWith("); re-save or re-upload it");
  }

  @Test
  void fileAndFtpUrlsAreRefusedWithoutARequest() {
    UserError file =
        refusal(
            () ->
                loader().fetch(ImageSource.url("image1", URI.create("file:///etc/bot123:SECRET"))));
    assertThat(file.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
    assertThat(file)
        .hasMessage("image1: only http(s) URLs can be used as references; got a file: URL");
    UserError ftp =
        refusal(
            () ->
                loader().fetch(ImageSource.url("image2", URI.create("ftp://h/bot123:SECRET.png"))));
    assertThat(ftp)
        .hasMessage("image2: only http(s) URLs can be used as references; got a ftp: URL");
    UserError relative =
        refusal(() -> loader().fetch(ImageSource.url("image3", URI.create("bot123/SECRET.png"))));
    assertThat(relative)
        .hasMessage(
            "image3: only http(s) URLs can be used as references; got a URL without a scheme");
    UserError tokenAsScheme =
        refusal(() -> loader().fetch(ImageSource.url("image4", URI.create("bot123:SECRET/f.png"))));
    assertThat(tokenAsScheme)
        .hasMessage("image4: only http(s) URLs can be used as references; got a non-http(s) URL");
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void notFoundIsRefusedNamingTheStatus() {
    server.enqueue(
        new MockResponse.Builder().code(404).body("no such file: " + SECRET_PATH).build());
    UserError error = refusal(() -> loader().fetch(remote("image1")));
    assertThat(error.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
    assertThat(error)
        .hasMessage(
            "image1: the download failed with HTTP 404; check the link or attach the image directly");
  }

  @Test
  void slowBodyTimesOutAfterTheReadTimeout() {
    Limits limits =
        new Limits(
            1 << 20,
            1 << 26,
            1 << 22,
            5,
            Duration.ofSeconds(2),
            Duration.ofMillis(200),
            Duration.ofSeconds(10));
    server.enqueue(
        new MockResponse.Builder()
            .body(new Buffer().write(TestImages.png(50, 50)))
            .throttleBody(1, 1, TimeUnit.SECONDS)
            .build());
    UserError error = refusal(() -> loader(limits).fetch(remote("image1")));
    assertThat(error.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
    assertThat(error)
        .hasMessage(
            "image1: the download timed out after 200 ms; try again or attach the image directly");
  }

  @Test
  void trickleBodyTimesOutAfterTheCallTimeout() {
    Limits limits =
        new Limits(
            1 << 20,
            1 << 26,
            1 << 22,
            5,
            Duration.ofSeconds(2),
            Duration.ofSeconds(2),
            Duration.ofMillis(300));
    byte[] png =
        java.util.Arrays.copyOf(TestImages.png(50, 50), 4000); // 8 bytes per 50 ms: 25 s in all
    server.enqueue(
        new MockResponse.Builder()
            .body(new Buffer().write(png))
            .throttleBody(8, 50, TimeUnit.MILLISECONDS)
            .build());
    UserError error = refusal(() -> loader(limits).fetch(remote("image1")));
    assertThat(error)
        .hasMessage(
            "image1: the download timed out after 300 ms; try again or attach the image directly");
  }

  @Test
  void unreachableServerIsRefusedWithoutItsAddress() throws Exception {
    URI gone = uri(SECRET_PATH);
    server.close();
    UserError error =
        refusal(
            () ->
                loader()
                    .fetch(new ImageSource.Remote("image1", gone, Map.of(), OptionalLong.empty())));
    assertThat(error)
        .hasMessage(
            "image1: the download failed (the server could not be reached); "
                + "try again or attach the image directly");
  }

  // ---- redirects

  @Test
  void redirectsAreFollowedUpToTheLimit() throws Exception {
    for (int i = 1; i <= 5; i++) {
      server.enqueue(redirect("/hop" + i));
    }
    byte[] png = TestImages.png(8, 8);
    server.enqueue(ok(png));

    assertThat(loader().fetch(remote("image1")).bytes()).isEqualTo(png);
    assertThat(server.getRequestCount()).isEqualTo(6);
  }

  @Test
  void sixthRedirectIsRefused() {
    for (int i = 1; i <= 6; i++) {
      server.enqueue(redirect("/hop" + i));
    }
    server.enqueue(ok(TestImages.png(8, 8)));

    UserError error = refusal(() -> loader().fetch(remote("image1")));
    assertThat(error)
        .hasMessage("image1: the link redirected more than 5 times; attach the image directly");
    assertThat(server.getRequestCount()).isEqualTo(6);
  }

  @Test
  void redirectOnTheSameOriginKeepsTheHeaders() throws Exception {
    server.enqueue(redirect("/elsewhere/bot123:SECRET.png"));
    server.enqueue(ok(TestImages.png(8, 8)));

    loader().fetch(remote("image1"));

    server.takeRequest(1, TimeUnit.SECONDS);
    RecordedRequest second = server.takeRequest(1, TimeUnit.SECONDS);
    assertThat(second.getTarget()).isEqualTo("/elsewhere/bot123:SECRET.png");
    assertThat(second.getHeaders().get("Authorization")).isEqualTo("Bearer xoxb-HEADERSECRET");
  }

  @Test
  void redirectToAnotherHostDropsTheSourceHeaders() throws Exception {
    try (MockWebServer other = new MockWebServer()) {
      other.start();
      String otherHost = server.getHostName().equals("127.0.0.1") ? "localhost" : "127.0.0.1";
      server.enqueue(redirect("http://" + otherHost + ":" + other.getPort() + "/cdn/image.png"));
      other.enqueue(
          redirect("http://" + server.getHostName() + ":" + server.getPort() + "/back.png"));
      server.enqueue(ok(TestImages.png(8, 8)));

      loader().fetch(remote("image1"));

      assertThat(server.takeRequest(1, TimeUnit.SECONDS).getHeaders().get("Authorization"))
          .isNotNull();
      RecordedRequest atOther = other.takeRequest(1, TimeUnit.SECONDS);
      assertThat(atOther.getTarget()).isEqualTo("/cdn/image.png");
      assertThat(atOther.getHeaders().get("Authorization")).isNull();
      assertThat(atOther.getHeaders().get("X-Extra")).isNull();
      RecordedRequest back = server.takeRequest(1, TimeUnit.SECONDS);
      assertThat(back.getHeaders().get("Authorization"))
          .as("once dropped, headers stay dropped")
          .isNull();
    }
  }

  @Test
  void redirectToAnFtpUrlIsRefused() {
    server.enqueue(redirect("ftp://files.example/bot123:SECRET.png"));
    UserError error = refusal(() -> loader().fetch(remote("image1")));
    assertThat(error)
        .hasMessage(
            "image1: the link redirected to a ftp: URL, and only http(s) URLs can be used as "
                + "references; attach the image directly");
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void redirectWithoutALocationIsRefused() {
    server.enqueue(new MockResponse.Builder().code(302).build());
    assertThat(refusal(() -> loader().fetch(remote("image1"))))
        .hasMessage(
            "image1: the link answered HTTP 302 without a valid redirect target; check the link or attach the image directly");
  }

  // ---- many at once

  @Test
  void fetchAllKeepsTheOrder() {
    byte[] slowPng = TestImages.png(11, 11);
    byte[] fastJpeg = TestImages.jpeg(22, 11);
    server.setDispatcher(
        byPath(
            Map.of(
                "/slow.png",
                    ok(slowPng).newBuilder().headersDelay(150, TimeUnit.MILLISECONDS).build(),
                "/fast.jpg", ok(fastJpeg))));

    List<ReferenceImage> images =
        loader()
            .fetchAll(
                List.of(
                    ImageSource.url("image1", uri("/slow.png")),
                    ImageSource.url("image2", uri("/fast.jpg")),
                    ImageSource.bytes("image3", TestImages.png(33, 3))));

    assertThat(images)
        .extracting(ReferenceImage::label)
        .containsExactly("image1", "image2", "image3");
    assertThat(images).extracting(ReferenceImage::width).containsExactly(11, 22, 33);
    assertThat(images.get(0).bytes()).isEqualTo(slowPng);
  }

  @Test
  void fetchAllReportsTheFirstFailureInListOrder() {
    server.setDispatcher(
        byPath(
            Map.of(
                "/ok.png", ok(TestImages.png(4, 4)),
                "/missing.png",
                    new MockResponse.Builder()
                        .code(404)
                        .headersDelay(150, TimeUnit.MILLISECONDS)
                        .build(),
                "/anim.gif", ok(TestImages.gif(4, 4)))));

    UserError error =
        refusal(
            () ->
                loader()
                    .fetchAll(
                        List.of(
                            ImageSource.url("image1", uri("/ok.png")),
                            ImageSource.url("image2", uri("/missing.png")),
                            ImageSource.url("image3", uri("/anim.gif")))));

    assertThat(error)
        .hasMessage(
            "image2: the download failed with HTTP 404; check the link or attach the image directly");
  }

  @Test
  void fetchAllTurnsAnUnexpectedFailureIntoAnInvalidReference() {
    OkHttpClient broken =
        HTTP.newBuilder()
            .addInterceptor(
                chain -> {
                  throw new IllegalStateException("bug while fetching " + chain.request().url());
                })
            .build();
    UserError error =
        refusal(
            () ->
                new ReferenceLoader(broken, Limits.defaults())
                    .fetchAll(
                        List.of(
                            ImageSource.bytes("image1", TestImages.png(2, 2)), remote("image2"))));
    assertThat(error.code()).isEqualTo(UserError.Code.INVALID_REFERENCE);
    assertThat(error)
        .hasMessage(
            "image2: the image could not be loaded (internal error: IllegalStateException); "
                + "try again or attach the image directly");
  }

  @Test
  void fetchAllOfNothingIsEmpty() {
    assertThat(loader().fetchAll(List.of())).isEmpty();
  }

  // ---- limits

  @Test
  void defaultLimitsAreTheIssues() {
    Limits d = Limits.defaults();
    assertThat(d.maxBytes()).isEqualTo(20L * 1024 * 1024);
    assertThat(d.maxSourcePixels()).isEqualTo(64L * 1024 * 1024);
    assertThat(d.maxOutputPixels()).isEqualTo(4L * 1024 * 1024);
    assertThat(d.maxRedirects()).isEqualTo(5);
    assertThat(d.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(d.readTimeout()).isEqualTo(Duration.ofSeconds(20));
    assertThat(d.callTimeout()).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void limitsRefuseNonsense() {
    Duration s = Duration.ofSeconds(1);
    assertThatThrownBy(() -> new Limits(0, 10, 10, 1, s, s, s))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Limits(10, 5, 10, 1, s, s, s))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Limits(10, 10, 10, -1, s, s, s))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Limits(10, 10, 10, 1, s, Duration.ZERO, s))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void targetSizeKeepsTheRatioUnderTheCap() {
    assertThat(Downscaler.targetSize(3000, 2000, 4L * 1024 * 1024)).containsExactly(2508, 1672);
    assertThat(Downscaler.targetSize(100, 100, 10_000)).containsExactly(100, 100);
    assertThat(Downscaler.targetSize(64_000_000, 1, 4L * 1024 * 1024))
        .containsExactly(4 * 1024 * 1024, 1);
  }

  // ---- where a link may lead

  /** A client whose lookups answer from this map (as a DNS server an attacker controls could). */
  private static OkHttpClient resolving(Map<String, String> names) {
    return HTTP.newBuilder()
        .dns(
            host -> {
              String address = names.get(host);
              if (address == null) {
                throw new java.net.UnknownHostException(host);
              }
              return List.of(java.net.InetAddress.getByName(address));
            })
        .build();
  }

  private ImageSource link(String label, String url) {
    return ImageSource.url(label, URI.create(url));
  }

  @Test
  void aLinkToTheBotsOwnMachineIsRefusedAndNothingIsSentThere() {
    server.enqueue(ok(TestImages.png(8, 8)));
    ReferenceLoader strict = new ReferenceLoader(HTTP, Limits.defaults());
    int port = server.getPort();
    for (String url :
        List.of(
            "http://127.0.0.1:" + port + "/a.png",
            "http://localhost:" + port + "/a.png",
            "http://[::1]:" + port + "/a.png",
            "http://[::ffff:127.0.0.1]:" + port + "/a.png",
            "http://[0:0:0:0:0:ffff:7f00:1]:" + port + "/a.png")) {
      UserError error = refusal(() -> strict.fetch(link("image1", url)));
      assertThat(error.code()).as(url).isEqualTo(UserError.Code.INVALID_REFERENCE);
      assertThat(error.getMessage())
          .as(url)
          .isEqualTo(
              "image1: the link leads to a loopback address, and references "
                  + "are fetched from public addresses only (an admin can permit a host or network with "
                  + "references.permitted_hosts); attach the image directly");
    }
    assertThat(server.getRequestCount()).isZero();
  }

  @Test
  void aNameThatResolvesToAPrivateAddressIsRefusedBeforeAnyConnection() {
    ReferenceLoader strict =
        new ReferenceLoader(
            resolving(
                Map.of(
                    "lan.example",
                    "10.1.2.3",
                    "metadata.example",
                    "169.254.169.254",
                    "six.example",
                    "fd00::5",
                    "mapped.example",
                    "::ffff:192.168.1.1")),
            Limits.defaults());
    assertThat(refusal(() -> strict.fetch(link("image1", "http://lan.example/a.png"))).getMessage())
        .contains("leads to a private network address");
    assertThat(
            refusal(() -> strict.fetch(link("image1", "http://metadata.example/latest/meta-data/")))
                .getMessage())
        .contains("leads to a link-local address (cloud metadata services live there)");
    assertThat(refusal(() -> strict.fetch(link("image1", "http://six.example/a.png"))).getMessage())
        .contains("leads to a private network address");
    assertThat(
            refusal(() -> strict.fetch(link("image1", "http://mapped.example/a.png"))).getMessage())
        .contains("leads to a private network address");
  }

  @Test
  void aRedirectToAPrivateAddressIsRefusedWhetherByAddressOrByName() {
    int port = server.getPort();
    AddressPolicy onlyThisHost =
        AddressPolicy.permitting("references.permitted_hosts", List.of("images.example"));
    ReferenceLoader loader =
        new ReferenceLoader(
            resolving(Map.of("images.example", "127.0.0.1", "internal.example", "127.0.0.1")),
            Limits.defaults(),
            onlyThisHost);
    server.enqueue(
        new MockResponse.Builder()
            .code(302)
            .addHeader("Location", "http://127.0.0.1:" + port + "/x.png")
            .build());
    server.enqueue(
        new MockResponse.Builder()
            .code(302)
            .addHeader("Location", "http://internal.example:" + port + "/x.png")
            .build());
    server.enqueue(ok(TestImages.png(8, 8)));
    assertThat(
            refusal(() -> loader.fetch(link("image1", "http://images.example:" + port + "/a.png")))
                .getMessage())
        .contains("leads to a loopback address");
    assertThat(
            refusal(() -> loader.fetch(link("image1", "http://images.example:" + port + "/b.png")))
                .getMessage())
        .contains("leads to a loopback address");
    assertThat(server.getRequestCount())
        .as("only the permitted host's two redirects were asked for")
        .isEqualTo(2);
    assertThat(loader.fetch(link("image1", "http://images.example:" + port + "/c.png")).width())
        .isEqualTo(8);
  }

  @Test
  void anAdminMayPermitANetwork() {
    server.enqueue(ok(TestImages.png(8, 8)));
    ReferenceLoader permitted =
        new ReferenceLoader(
            HTTP,
            Limits.defaults(),
            AddressPolicy.permitting("references.permitted_hosts", List.of("127.0.0.0/8")));
    assertThat(
            permitted
                .fetch(link("image1", "http://127.0.0.1:" + server.getPort() + "/a.png"))
                .width())
        .isEqualTo(8);
  }

  @Test
  void theAddressActuallyConnectedToIsCheckedEvenWhenALookupLetItThrough() throws Exception {
    OkHttpClient unfiltered =
        HTTP.newBuilder().addNetworkInterceptor(AddressPolicy.publicOnly().interceptor()).build();
    server.enqueue(ok(TestImages.png(8, 8)));
    try (okhttp3.Response r =
        unfiltered
            .newCall(new okhttp3.Request.Builder().url(server.url("/a.png")).build())
            .execute()) {
      org.assertj.core.api.Assertions.fail("connected to loopback: " + r.code());
    } catch (AddressPolicy.Refused e) {
      assertThat(e.kind()).isEqualTo("a loopback address");
    }
    assertThat(server.getRequestCount()).isZero();
  }

  // ---- helpers

  /**
   * Runs a call that must be refused; checks that the message leaks nothing from the URL or
   * headers.
   */
  private static UserError refusal(ThrowingCallable call) {
    UserError error = catchThrowableOfType(UserError.class, call);
    assertThat(error).as("expected a UserError").isNotNull();
    for (String secret : NEVER_SHOWN) {
      assertThat(error.getMessage())
          .as("message must not contain %s", secret)
          .doesNotContain(secret);
      assertThat(error.toString()).doesNotContain(secret);
    }
    return error;
  }

  private ReferenceLoader loader() {
    return loader(Limits.defaults());
  }

  /**
   * The tests' server is on loopback, which a real bot refuses: these loaders permit it as an admin
   * could.
   */
  private ReferenceLoader loader(Limits limits) {
    return new ReferenceLoader(HTTP, limits, LOOPBACK);
  }

  private static final AddressPolicy LOOPBACK =
      AddressPolicy.permitting("test", List.of("127.0.0.0/8", "::1"));

  private static Limits limits(long maxBytes) {
    Limits d = Limits.defaults();
    return new Limits(
        maxBytes,
        d.maxSourcePixels(),
        d.maxOutputPixels(),
        d.maxRedirects(),
        d.connectTimeout(),
        d.readTimeout(),
        d.callTimeout());
  }

  private ImageSource remote(String label) {
    return new ImageSource.Remote(label, uri(SECRET_PATH), SECRET_HEADERS, OptionalLong.empty());
  }

  private URI uri(String pathAndQuery) {
    return server.url(pathAndQuery).uri();
  }

  private static MockResponse ok(byte[] body) {
    return new MockResponse.Builder()
        .code(200)
        .addHeader("Content-Type", "image/png")
        .body(new Buffer().write(body))
        .build();
  }

  private static MockResponse redirect(String location) {
    return new MockResponse.Builder().code(302).addHeader("Location", location).build();
  }

  private static Dispatcher byPath(Map<String, MockResponse> responses) {
    return new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        return responses.getOrDefault(
            request.getUrl().encodedPath(), new MockResponse.Builder().code(500).build());
      }
    };
  }

  private static BufferedImage decode(ReferenceImage image) throws Exception {
    BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(image.bytes()));
    assertThat(decoded).as("result decodes").isNotNull();
    return decoded;
  }

  /** Each channel within 24 of the expected colour (JPEG is lossy). */
  private static void assertMostly(int argb, int rgb) {
    for (int shift = 0; shift <= 16; shift += 8) {
      assertThat((argb >>> shift) & 0xff).isCloseTo((rgb >>> shift) & 0xff, within(24));
    }
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
