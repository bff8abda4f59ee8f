package dev.fluxbot.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.ImageSource;
import dev.fluxbot.core.ImagineCommand;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.command.CommandParser;
import dev.fluxbot.core.command.PromptVariants;
import dev.fluxbot.core.model.GenerationRequest;
import dev.fluxbot.core.model.GenerationResult;
import dev.fluxbot.core.model.ImageType;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fluxbot imagine "<prompt and flags>"}: one image, written to a file. */
@Command(
    name = "imagine",
    mixinStandardHelpOptions = true,
    description = {
      "Generates one image with the chat grammar and writes it to a file.",
      "Example: fluxbot imagine \"a red fox in snow --ar 16:9 --seed 7\" -o fox.jpg"
    })
final class ImagineCli implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @CommandLine.ParentCommand Main main;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "COMMAND",
      description = "The prompt with any flags, as typed in chat.")
  String text;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FILE",
      description =
          "Where to write the image (default: fluxbot-<job id>.<format> here). Its extension"
              + " (.jpg, .png, .webp) chooses the format when --format is not typed.")
  Path output;

  @Option(
      names = "--image",
      paramLabel = "PATH|URL",
      description = "A reference image (repeatable, in order).")
  List<String> images = new ArrayList<>();

  @Option(
      names = "--user",
      paramLabel = "PLATFORM:ID[@SCOPE]",
      description =
          "Debit this user's quota (a bare ID is a CLI user). Without it the operator's image is not debited.")
  String user;

  @Option(
      names = "--dry-run",
      description =
          "Print the normalized request (each one, where prompt variants or --repeat make"
              + " several) and its estimated cost; send nothing.")
  boolean dryRun;

  @Option(
      names = "--json",
      description =
          "Print JSON instead of text: one object, or with --dry-run an array of objects when"
              + " the command makes several requests.")
  boolean json;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Requester who;
    FluxbotConfig config;
    try {
      who =
          user == null ? Requester.operator() : UserSpec.parse("--user", user).requester(Set.of());
      config = main.loadConfig(main.environment);
    } catch (FluxbotConfig.ConfigException | IllegalArgumentException e) {
      err.println("fluxbot: " + e.getMessage());
      return Main.USER_ERROR;
    }
    if (dryRun) {
      return dryRun(config, out, err);
    }
    try (Wiring wiring = new Wiring(config, main.environment, true)) {
      ImagineCommand command = new ImagineCommand(who, text, Map.of(), sources(), outputContext());
      GenerationRequest request =
          checkOutput(wiring.imagine.plan(command)); // input errors first, before any key check
      oneImage(wiring.imagine.images(command));
      if (request.model().local()) { // a pro image starts no klein worker
        wiring.startLocal();
        if (wiring.local != null
            && wiring.local.config().spawn() != null
            && !awaitLocal(wiring, err)) {
          return Main.BACKEND_FAILURE;
        }
      }
      if (wiring.bfl.config().apiKey() == null
          && (wiring.local == null || !request.model().local())) {
        err.println(
            "fluxbot: no BFL API key. Create one at https://dashboard.bfl.ai (API keys), then run with "
                + "BFL_API_KEY=<key> in the environment, or put it in a file and set bfl.api_key_file in fluxbot.yaml.");
        return Main.BACKEND_FAILURE;
      }
      FileReply reply = FileReply.to(output, err, !json);
      ImageReply done = wiring.imagine.imagine(command, reply, reply.address());
      if (reply.written() == null) {
        err.println(
            "fluxbot: the image of job "
                + done.jobId()
                + " is made and kept, but could not be written (see above);"
                + " fix the cause and run: fluxbot jobs resume");
        return Main.BACKEND_FAILURE;
      }
      Path file = Path.of("").toAbsolutePath().relativize(reply.written().toAbsolutePath());
      out.println(json ? JSON.writeValueAsString(describe(done, file)) : summary(done, file));
      return Main.OK;
    } catch (UserError e) {
      err.println("fluxbot: " + e.getMessage());
      return e.code().kind() == UserError.Kind.INPUT ? Main.USER_ERROR : Main.BACKEND_FAILURE;
    } catch (FluxbotConfig.ConfigException e) {
      err.println("fluxbot: " + e.getMessage());
      return Main.USER_ERROR;
    } catch (IOException | UncheckedIOException e) {
      err.println("fluxbot: " + e.getMessage());
      return Main.BACKEND_FAILURE;
    }
  }

  /** The command line writes one file per run: {@code --n} above 1 is refused with what to do. */
  private static void oneImage(int n) {
    if (n > 1) {
      throw new UserError(
          UserError.Code.INVALID_OPTION,
          "--n, --repeat, {…}: fluxbot imagine writes one image per run; this command makes "
              + n
              + ". Leave --n and --repeat out and write one prompt without {…} groups, run it"
              + " once per image (--seed s, s+1, …), or ask in chat; --dry-run shows them all.");
    }
  }

  /**
   * {@code --dry-run}: parses and prices the request with the config alone; opens no database and
   * writes nothing.
   */
  private int dryRun(FluxbotConfig config, PrintWriter out, PrintWriter err) {
    try {
      var parser = Wiring.parser(config, dev.fluxbot.core.model.ModelCatalog.builtIn());
      GenerationRequest request =
          checkOutput(parser.parse(text, Map.of(), sources().size(), outputContext()));
      List<GenerationRequest> requests =
          PromptVariants.requests(request, parser.repeat(text, Map.of()));
      new dev.fluxbot.core.filter.PromptFilters(
              null, config.filters().rules(), new dev.fluxbot.core.filter.FilterMatcher())
          .check(Requester.operator(), requests.stream().map(GenerationRequest::prompt).toList());
      // klein with a local runtime configured runs there, at the local price
      boolean local = config.local().enabled() && request.model().local();
      java.math.BigDecimal estimate =
          local
              ? java.math.BigDecimal.valueOf(config.quotas().localImageCredits())
              : request.estimatedCost(List.of());
      int n = parser.count(text, Map.of(), outputContext()); // --n: how many images
      PromptVariants.expand(request.prompt(), parser.repeat(text, Map.of()), n); // at most 4
      if (json) {
        var described = JSON.createArrayNode();
        requests.forEach(r -> described.add(describe(r, local, estimate).put("n", n)));
        out.println(JSON.writeValueAsString(described.size() == 1 ? described.get(0) : described));
      } else {
        for (int i = 0; i < requests.size(); i++) {
          out.println(
              (requests.size() == 1 ? "" : "Request " + (i + 1) + " of " + requests.size() + ": ")
                  + summary(requests.get(i), local, estimate)
                  + (n > 1 ? " (" + n + " images)" : ""));
        }
      }
      return Main.OK;
    } catch (UserError | FluxbotConfig.ConfigException e) {
      err.println("fluxbot: " + e.getMessage());
      return Main.USER_ERROR;
    } catch (IOException e) {
      err.println("fluxbot: " + e.getMessage());
      return Main.BACKEND_FAILURE;
    }
  }

  /**
   * The type {@code -o}'s extension names, or null when {@code -o} is absent or has no extension.
   *
   * @throws UserError for an extension that is no image type fluxbot writes
   */
  ImageType outputType() {
    if (output == null || output.getFileName() == null) {
      return null;
    }
    String name = output.getFileName().toString();
    int dot = name.lastIndexOf('.');
    if (dot <= 0 || dot == name.length() - 1) {
      return null;
    }
    String extension = name.substring(dot + 1);
    return ImageType.fromName(extension)
        .orElseThrow(
            () ->
                new UserError(
                    UserError.Code.INVALID_OPTION,
                    "-o: the file's extension chooses the image's format and must be .jpg, .jpeg,"
                        + " .png or .webp; got "
                        + quoted(name)
                        + ". Name the file with one of those, or leave the extension out and add"
                        + " --format."));
  }

  /** The extension of {@code -o} as the weakest default: a typed {@code --format} wins over it. */
  private CommandParser.Context outputContext() {
    ImageType type = outputType();
    return type == null
        ? CommandParser.Context.NONE
        : new CommandParser.Context(Map.of("format", type.apiName()), null, null);
  }

  /**
   * A typed {@code --format} that contradicts {@code -o}'s extension is an error, not a surprise.
   */
  private GenerationRequest checkOutput(GenerationRequest request) {
    ImageType type = outputType();
    if (type != null && request.format() != type) {
      throw new UserError(
          UserError.Code.INVALID_OPTION,
          "-o "
              + quoted(output.getFileName().toString())
              + " names a "
              + type.apiName().toUpperCase(Locale.ROOT)
              + " file, but --format asks for "
              + request.format().apiName()
              + ". Use -o with the ."
              + request.format().extension()
              + " extension, or --format "
              + type.apiName()
              + ".");
    }
    return request;
  }

  /**
   * Waits for the spawned worker to load its model; false (after saying why) when it did not in
   * time.
   */
  static boolean awaitLocal(Wiring wiring, PrintWriter err) {
    if (wiring.local.workers().stream().anyMatch(dev.fluxbot.runtime.WorkerReport::healthy)) {
      return true;
    }
    java.time.Duration timeout = wiring.local.config().spawn().healthTimeout();
    err.println(
        "fluxbot: waiting for the local klein worker to load its model (up to "
            + timeout.toSeconds()
            + " s)…");
    err.flush();
    try {
      if (wiring.local.awaitHealthy(timeout)) {
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    err.println(
        "fluxbot: the local klein worker did not become healthy: "
            + wiring.local.workers().stream()
                .map(w -> w.url() + " " + w.problem())
                .collect(java.util.stream.Collectors.joining("; "))
            + ". Run fluxbot -v imagine … to see its log, or fluxbot doctor.");
    return false;
  }

  private List<ImageSource> sources() throws IOException {
    List<ImageSource> sources = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      String image = images.get(i);
      String lower = image.toLowerCase(Locale.ROOT);
      if (lower.startsWith("http://") || lower.startsWith("https://")) {
        sources.add(ImageSource.url("image" + (i + 1), url(image)));
        continue;
      }
      sources.add(file(image));
    }
    return sources;
  }

  private static URI url(String image) {
    try {
      URI uri = new URI(image);
      if (uri.getHost() == null) {
        throw new URISyntaxException(image, "no host name");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new UserError(
          UserError.Code.INVALID_REFERENCE,
          "--image: not a valid URL ("
              + e.getReason()
              + (e.getIndex() >= 0 ? " at character " + (e.getIndex() + 1) : "")
              + "); got "
              + quoted(image)
              + ". Give an http(s) URL like https://example.com/fox.png (spaces written as %20), or a file path.");
    }
  }

  private static ImageSource file(String image) throws IOException {
    Path path;
    try {
      path = Path.of(image);
    } catch (java.nio.file.InvalidPathException e) {
      throw new UserError(
          UserError.Code.INVALID_REFERENCE,
          "--image: not a valid file path ("
              + e.getReason()
              + "); got "
              + quoted(image)
              + ". Give an image file's path or an http(s) URL.");
    }
    if (Files.isDirectory(path)) {
      throw new UserError(
          UserError.Code.INVALID_REFERENCE,
          "--image: must be an image file, not a folder; got "
              + quoted(image)
              + ". Name a file inside it, e.g. --image "
              + path.resolve("fox.png")
              + ".");
    }
    try {
      return ImageSource.bytes(String.valueOf(path.getFileName()), Files.readAllBytes(path));
    } catch (NoSuchFileException e) {
      throw new UserError(
          UserError.Code.INVALID_REFERENCE,
          "--image: no such file: " + image + ". Give a file path or an http(s) URL.");
    } catch (java.nio.file.AccessDeniedException e) {
      throw new UserError(
          UserError.Code.INVALID_REFERENCE,
          "--image: cannot read "
              + quoted(image)
              + " (permission denied). Make it readable by this user, or copy it somewhere that is.");
    }
  }

  private static String quoted(String value) {
    return "\"" + (value.length() > 200 ? value.substring(0, 199) + "…" : value) + "\"";
  }

  static ObjectNode describe(GenerationRequest r, boolean local, java.math.BigDecimal estimate) {
    ObjectNode o = JSON.createObjectNode();
    o.put("model", r.model().id());
    o.put("backend", local ? "local-klein" : "bfl");
    o.put("endpoint", local ? null : r.model().endpoint());
    o.put("prompt", r.prompt());
    o.put("width", r.size() == null ? null : r.size().width());
    o.put("height", r.size() == null ? null : r.size().height());
    if (r.seedFromLast()) {
      o.put("seed", "last");
    } else {
      o.put("seed", r.seed());
    }
    o.put("steps", r.steps());
    o.put("guidance", r.guidance());
    o.put("safety_tolerance", r.safetyTolerance());
    o.put("output_format", r.format().apiName());
    o.put("references", r.referenceCount());
    o.put("estimated_cost_credits", estimate);
    return o;
  }

  private static String summary(GenerationRequest r, boolean local, java.math.BigDecimal estimate) {
    return (local
            ? "Would run on the local klein runtime: "
            : "Would send to " + r.model().endpoint() + ": ")
        + r.model().id()
        + ", "
        + (r.size() == null
            ? "size of the first reference" + (r.hiRes() ? " at 2k" : "")
            : r.size())
        + ", seed "
        + (r.seedFromLast() ? "last" : r.seed() == null ? "drawn at random" : r.seed())
        + ", "
        + r.format().apiName()
        + ", safety "
        + r.safetyTolerance()
        + (r.steps() == null ? "" : ", steps " + r.steps())
        + (r.guidance() == null ? "" : ", guidance " + r.guidance())
        + ", "
        + r.referenceCount()
        + " reference(s), about "
        + estimate.stripTrailingZeros().toPlainString()
        + " credits\nPrompt: "
        + r.prompt();
  }

  private static String credits(java.math.BigDecimal c) {
    return c.stripTrailingZeros().toPlainString();
  }

  private static ObjectNode describe(ImageReply reply, Path file) {
    GenerationResult r = reply.result();
    ObjectNode o = JSON.createObjectNode();
    o.put("file", file.toString());
    o.put("job_id", reply.jobId());
    o.put("model", reply.request().model().id());
    o.put("width", r.width());
    o.put("height", r.height());
    o.put("seed", r.seed());
    o.put("format", r.type().apiName());
    o.put("cost_credits", r.cost());
    o.put("cached", reply.cached());
    o.put("backend", r.backend());
    o.put("task_id", r.taskId());
    o.put("elapsed_ms", r.elapsed().toMillis());
    return o;
  }

  private static String summary(ImageReply reply, Path file) {
    GenerationResult r = reply.result();
    String cost =
        reply.cached()
            ? "cached ("
                + (r.cost() == null || r.cost().signum() == 0
                    ? "free"
                    : credits(r.cost()) + " credits")
                + ")"
            : r.cost() == null ? "cost not reported" : credits(r.cost()) + " credits";
    return "Saved "
        + file
        + "\n  model "
        + reply.request().model().id()
        + ", "
        + r.width()
        + "x"
        + r.height()
        + ", seed "
        + r.seed()
        + ", "
        + cost
        + ", "
        + String.format(Locale.ROOT, "%.1f s", r.elapsed().toMillis() / 1000.0)
        + "\n  repeat with: --seed "
        + r.seed();
  }
}
