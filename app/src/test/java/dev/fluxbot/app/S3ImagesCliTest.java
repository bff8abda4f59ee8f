package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.core.imagestore.Hashes;
import dev.fluxbot.testkit.FakeBflApi;
import dev.fluxbot.testkit.S3Server;
import dev.fluxbot.testkit.Scenario;
import dev.fluxbot.testkit.junit.FakeBflApiExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The images in S3 ({@code FLUXBOT_IMAGES_URL}, {@code FLUXBOT_S3_ENDPOINT}, the AWS variables)
 * from the command line, against S3Proxy on loopback: {@code doctor} checks and names the store,
 * {@code run} refuses to start on a store it cannot use, with one line and exit 2, settings that
 * break their rules are named, and a generated image lands in the bucket as {@code PREFIX/<hash>}.
 */
class S3ImagesCliTest {
  private static final String BFL_KEY = "sk-live-TESTSECRET-9f8e7d6c";
  private static final String TELEGRAM_TOKEN = "123456:TESTTOKEN-abcdef";

  @RegisterExtension
  final FakeBflApiExtension bflFake = new FakeBflApiExtension(b -> b.key(BFL_KEY));

  private final FakeBflApi bfl = bflFake.get();
  private final S3Server s3 = S3Server.shared();
  private final String bucket = s3.newBucket();

  @TempDir Path dir;

  private Path config;

  record Run(int exit, String out, String err) {
    String all() {
      return out + err;
    }
  }

  @BeforeEach
  void config() throws Exception {
    config = dir.resolve("fluxbot.yaml");
    config("");
  }

  private void config(String more) throws Exception {
    Files.writeString(config, "storage:\n  data_dir: " + dir.resolve("data") + "\n" + more);
  }

  /** In process, with only {@code env} as the environment. */
  private Run fluxbot(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] all = new String[args.length + 1];
    all[0] = args[0];
    all[1] = "--config=" + config;
    System.arraycopy(args, 1, all, 2, args.length - 1);
    int exit =
        Main.run(all, new Environment(env), new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  /** The images in this test's bucket under {@code fluxbot/images}, with a working key. */
  private Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("FLUXBOT_IMAGES_URL", "s3://" + bucket + "/fluxbot/images");
    env.put("FLUXBOT_S3_ENDPOINT", s3.endpoint().toString());
    env.put("AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY);
    env.put("AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY);
    env.put("AWS_REGION", S3Server.REGION);
    env.put("BFL_API_KEY", BFL_KEY);
    env.put("FLUXBOT_TELEGRAM_TOKEN", TELEGRAM_TOKEN);
    return env;
  }

  private Map<String, String> env(String name, String value) {
    Map<String, String> env = env();
    if (value == null) {
      env.remove(name);
    } else {
      env.put(name, value);
    }
    return env;
  }

  private static void assertOneLineWithoutTrace(Run run) {
    assertThat(run.err().strip())
        .doesNotContain("\n")
        .doesNotContain("Exception:")
        .doesNotContain("\tat ");
  }

  private List<String> keys() {
    try (S3Client client = s3.client()) {
      return client.listObjectsV2(r -> r.bucket(bucket)).contents().stream()
          .map(S3Object::key)
          .toList();
    }
  }

  @Test
  void doctorChecksTheS3StoreAndNamesItButNeverTheKey() {
    Run run = fluxbot(env(), "doctor");

    assertThat(run.exit()).as(run.all()).isZero();
    assertThat(run.out())
        .contains(
            "ok    image store: S3, s3://"
                + bucket
                + "/fluxbot/images at "
                + s3.endpoint()
                + " (us-east-1): writes, reads and deletes work (credentials: AWS_ACCESS_KEY_ID"
                + " and AWS_SECRET_ACCESS_KEY)")
        .endsWith("All is well.\n");
    assertThat(run.all()).doesNotContain(S3Server.SECRET_KEY).doesNotContain(S3Server.ACCESS_KEY);
    assertThat(keys()).as("the test object is gone again").isEmpty();
  }

  @Test
  void doctorWithoutS3NamesTheLocalFolder() {
    Run run =
        fluxbot(Map.of("BFL_API_KEY", BFL_KEY, "FLUXBOT_TELEGRAM_TOKEN", TELEGRAM_TOKEN), "doctor");

    assertThat(run.exit()).as(run.all()).isZero();
    assertThat(run.out())
        .contains(
            "ok    image store: local pack files in " + dir.resolve("data").resolve("images"));
  }

  @Test
  void doctorSaysWhatIsWrongWithAMissingBucketAClosedPortAndAWrongKey() {
    Run noBucket = fluxbot(env("FLUXBOT_IMAGES_URL", "s3://no-such-bucket/x"), "doctor");
    assertThat(noBucket.exit()).isEqualTo(1);
    assertThat(noBucket.out())
        .contains("FAIL  image store s3://no-such-bucket/x at " + s3.endpoint())
        .contains("the bucket no-such-bucket does not exist (HTTP 404 NoSuchBucket); create it")
        .endsWith("1 problem(s) found; fix the FAIL lines above.\n");

    int port = S3Server.freePort();
    Run closed = fluxbot(env("FLUXBOT_S3_ENDPOINT", "http://127.0.0.1:" + port), "doctor");
    assertThat(closed.exit()).isEqualTo(1);
    assertThat(closed.out())
        .contains(
            "FAIL  image store s3://" + bucket + "/fluxbot/images at http://127.0.0.1:" + port)
        .contains("did not answer (connection refused");

    Run wrongKey = fluxbot(env("AWS_SECRET_ACCESS_KEY", "wrong-secret-xyz"), "doctor");
    assertThat(wrongKey.exit()).isEqualTo(1);
    assertThat(wrongKey.out())
        .contains("the server does not accept the credentials")
        .doesNotContain("wrong-secret-xyz");
  }

  @Test
  void runRefusesToStartOnAStoreItCannotUseWithOneLineAndExit2() {
    int port = S3Server.freePort();
    Run closed = fluxbot(env("FLUXBOT_S3_ENDPOINT", "http://127.0.0.1:" + port), "run");
    assertThat(closed.exit()).as(closed.all()).isEqualTo(2);
    assertThat(closed.err())
        .startsWith("fluxbot: image store s3://" + bucket + "/fluxbot/images at http://127.0.0.1:")
        .contains("cannot write a test object: the server at http://127.0.0.1:" + port)
        .contains("did not answer");
    assertOneLineWithoutTrace(closed);

    Run noBucket = fluxbot(env("FLUXBOT_IMAGES_URL", "s3://no-such-bucket/x"), "run");
    assertThat(noBucket.exit()).isEqualTo(2);
    assertThat(noBucket.err()).contains("the bucket no-such-bucket does not exist");
    assertOneLineWithoutTrace(noBucket);

    Run denied = fluxbot(env("AWS_ACCESS_KEY_ID", "not-a-known-key"), "run");
    assertThat(denied.exit()).isEqualTo(2);
    assertThat(denied.err()).contains("does not accept the credentials");
    assertOneLineWithoutTrace(denied);
  }

  @Test
  void runGoesPastTheStoreCheckWhenS3Works() {
    Map<String, String> env = env("FLUXBOT_TELEGRAM_TOKEN", null);
    Run run = fluxbot(env, "run");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).startsWith("fluxbot: no chat platform is configured");
  }

  @Test
  void settingsThatBreakTheirRulesAreNamedWithTheRuleAndTheValue() throws Exception {
    Run notS3 = fluxbot(env("FLUXBOT_IMAGES_URL", "https://bucket/x"), "run");
    assertThat(notS3.exit()).isEqualTo(2);
    assertThat(notS3.err().strip())
        .isEqualTo(
            "fluxbot: FLUXBOT_IMAGES_URL: must be s3://BUCKET/PREFIX, e.g."
                + " s3://my-bucket/fluxbot/images; got \"https://bucket/x\"; unset it to keep the"
                + " images in the data folder");

    Run badBucket = fluxbot(env("FLUXBOT_IMAGES_URL", "s3://My_Bucket/x"), "doctor");
    assertThat(badBucket.out())
        .contains("FAIL  image store: FLUXBOT_IMAGES_URL: the bucket must be 3 to 63 lowercase")
        .contains("got \"My_Bucket\"");

    Run badEndpoint = fluxbot(env("FLUXBOT_S3_ENDPOINT", "ftp://127.0.0.1:9000"), "run");
    assertThat(badEndpoint.exit()).isEqualTo(2);
    assertThat(badEndpoint.err())
        .contains("FLUXBOT_S3_ENDPOINT: must be the S3 server's http(s)://HOST[:PORT]")
        .contains("got \"ftp://127.0.0.1:9000\"");
    assertOneLineWithoutTrace(badEndpoint);

    Run halfAKey = fluxbot(env("AWS_SECRET_ACCESS_KEY", null), "run");
    assertThat(halfAKey.exit()).isEqualTo(2);
    assertThat(halfAKey.err()).contains("AWS_SECRET_ACCESS_KEY: not set, but AWS_ACCESS_KEY_ID is");

    config("  images_url: s3://" + bucket + "/a/../b\n");
    Run dotDot = fluxbot(Map.of(), "doctor");
    assertThat(dotDot.out())
        .contains("FAIL  config: ")
        .contains("storage.images_url: the prefix must be folder names separated by single")
        .contains("none of them . or ..");

    config("  s3_endpoint: http://127.0.0.1:9000/some/path\n");
    Run path = fluxbot(Map.of(), "run");
    assertThat(path.exit()).isEqualTo(2);
    assertThat(path.err()).contains("storage.s3_endpoint: must be the S3 server's http(s)://");

    config("  s3_endpoint: http://127.0.0.1:9000\n");
    Run endpointAlone = fluxbot(Map.of(), "run");
    assertThat(endpointAlone.exit()).isEqualTo(2);
    assertThat(endpointAlone.err())
        .contains("storage.s3_endpoint: set, but the images are not in S3; set storage.images_url");
  }

  @Test
  void theSettingsInTheFileWorkLikeTheVariables() throws Exception {
    config(
        "  images_url: s3://"
            + bucket
            + "/from-file/\n  s3_endpoint: "
            + s3.endpoint()
            + "\n  s3_region: eu-central-1\n");
    Map<String, String> env = env("FLUXBOT_IMAGES_URL", null);
    env.remove("FLUXBOT_S3_ENDPOINT");

    Run run = fluxbot(env, "doctor");

    assertThat(run.exit()).as(run.all()).isZero();
    assertThat(run.out())
        .contains(
            "ok    image store: S3, s3://"
                + bucket
                + "/from-file at "
                + s3.endpoint()
                + " (eu-central-1)");
  }

  @Test
  void anImageMadeFromTheCommandLineLandsInTheBucketAsPrefixSlashHash() throws Exception {
    bfl.enqueue(Scenario.ready().withCost(1.4));
    Map<String, String> env = env();
    env.put("FLUXBOT_BFL_BASE_URL", bfl.baseUrl());
    ProcessBuilder pb =
        FluxbotProcess.builder(
            dir,
            env,
            "imagine",
            "--config=" + config,
            "a red fox --seed 7 --format png",
            "-o",
            "fox.png");
    Process p =
        pb.redirectOutput(dir.resolve("out.txt").toFile())
            .redirectError(dir.resolve("err.txt").toFile())
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue())
        .as(Files.readString(dir.resolve("out.txt")) + Files.readString(dir.resolve("err.txt")))
        .isZero();

    byte[] image = Files.readAllBytes(dir.resolve("fox.png"));
    String key = "fluxbot/images/" + Hashes.sha256Hex(image);
    assertThat(keys()).containsExactly(key);
    try (S3Client client = s3.client()) {
      assertThat(client.getObjectAsBytes(r -> r.bucket(bucket).key(key)).asByteArray())
          .isEqualTo(image);
    }
    assertThat(dir.resolve("data/images/packs")).as("nothing in the local store").doesNotExist();
  }
}
