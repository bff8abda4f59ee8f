package dev.fluxbot.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobProviderMetadata;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3-protocol server for tests: S3Proxy (pure Java, in this JVM) on a free loopback port,
 * over an in-memory blob store, checking AWS signatures (V2 or V4) against one access key. One
 * server per test JVM, started on first use and stopped at exit; each caller gets a bucket of its
 * own ({@link #newBucket}).
 *
 * <p>A child process (the app's process tests) reaches it at {@link #endpoint()} with {@link
 * #ACCESS_KEY} and {@link #SECRET_KEY} in {@code AWS_ACCESS_KEY_ID} and {@code
 * AWS_SECRET_ACCESS_KEY}.
 */
public final class S3Server {
  public static final String ACCESS_KEY = "fluxbot-test-access";
  public static final String SECRET_KEY = "fluxbot-test-secret-0123456789";
  public static final String REGION = "us-east-1";

  private static final AtomicInteger BUCKETS = new AtomicInteger();
  private static volatile S3Server shared;

  private final S3Proxy proxy;
  private final BlobStoreContext context;
  private final URI endpoint;

  private S3Server(S3Proxy proxy, BlobStoreContext context, URI endpoint) {
    this.proxy = proxy;
    this.context = context;
    this.endpoint = endpoint;
  }

  /** The shared server, started on first use. */
  public static synchronized S3Server shared() {
    if (shared == null) {
      shared = start();
      S3Server s = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(s::stop, "s3proxy-stop"));
    }
    return shared;
  }

  /** {@code http://127.0.0.1:PORT}: where S3 clients send their requests (path-style). */
  public URI endpoint() {
    return endpoint;
  }

  /** A new, empty bucket of its own for the caller: its name. */
  public String newBucket() {
    String name =
        ("fluxbot-test-" + ProcessHandle.current().pid() + "-" + BUCKETS.incrementAndGet())
            .toLowerCase(Locale.ROOT);
    blobStore().createContainerInLocation(null, name);
    return name;
  }

  /** Removes a bucket and what it holds, as an operator who deleted it would. */
  public void deleteBucket(String bucket) {
    blobStore().deleteContainer(bucket);
  }

  /**
   * A plain SDK client of the server (path-style, the JDK's HTTP client), for a test that reads or
   * writes objects behind the code under test's back. The caller closes it.
   */
  public S3Client client() {
    return client(ACCESS_KEY, SECRET_KEY);
  }

  /** As {@link #client()}, signing with another key (to see a refusal). */
  public S3Client client(String accessKey, String secretKey) {
    return S3Client.builder()
        .endpointOverride(endpoint)
        .forcePathStyle(true)
        .region(Region.of(REGION))
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
        .httpClient(UrlConnectionHttpClient.builder().build())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .build();
  }

  private BlobStore blobStore() {
    return context.getBlobStore();
  }

  private static S3Server start() {
    BlobStoreContext context =
        // the provider itself, not its name: a lookup by name loads every provider S3Proxy lists,
        // Azure's too, whose SDK is left out of the test class path
        ContextBuilder.newBuilder(new TransientNio2BlobProviderMetadata())
            .credentials(ACCESS_KEY, SECRET_KEY)
            .build(BlobStoreContext.class);
    try {
      int port = freePort();
      URI endpoint = URI.create("http://127.0.0.1:" + port);
      S3Proxy proxy =
          S3Proxy.builder()
              .blobStore(context.getBlobStore())
              .endpoint(endpoint)
              .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
              .build();
      proxy.start();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!"STARTED".equals(proxy.getState())) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("S3Proxy did not start within 30 s: " + proxy.getState());
        }
        Thread.sleep(10);
      }
      return new S3Server(proxy, context, URI.create("http://127.0.0.1:" + proxy.getPort()));
    } catch (Exception e) {
      context.close();
      throw new IllegalStateException("cannot start S3Proxy on loopback: " + e, e);
    }
  }

  private void stop() {
    try {
      proxy.stop();
    } catch (Exception e) {
      // at exit: nothing to tell
    } finally {
      context.close();
    }
  }

  /** A loopback port nothing listens on right now. */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free loopback port: " + e.getMessage(), e);
    }
  }
}
