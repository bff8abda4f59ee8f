package dev.fluxbot.core;

import dev.fluxbot.core.image.ReferenceLoader;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The imagine pipeline every platform shares: parse, draw or recall the seed, load the
 * references, pick a backend, run the job, reply. Quotas, the seed cache and the fair queue slot
 * in here too, so adapters stay thin.
 */
public final class ImagineService {
  private static final Logger log = LoggerFactory.getLogger(ImagineService.class);

  private final CommandParser parser;
  private final ReferenceLoader references;
  private final BackendRouter router;
  private final SeedHistory seeds;
  private final JobIds jobIds;
  private final RandomGenerator random;

  public ImagineService(CommandParser parser, ReferenceLoader references, BackendRouter router, SeedHistory seeds,
      InstantSource clock, RandomGenerator random) {
    this.parser = Objects.requireNonNull(parser, "parser");
    this.references = Objects.requireNonNull(references, "references");
    this.router = Objects.requireNonNull(router, "router");
    this.seeds = Objects.requireNonNull(seeds, "seeds");
    this.random = Objects.requireNonNull(random, "random");
    this.jobIds = new JobIds(clock, random);
  }

  /** Parses without running anything: for {@code --dry-run} and for checking a command early. */
  public GenerationRequest plan(ImagineCommand command) {
    return parser.parse(command.text(), command.options(), command.attachments().size());
  }

  /**
   * Runs one command to the end, blocking (call it on a virtual thread). Every outcome goes to
   * {@code reply}; a failure is also thrown, so a caller such as the CLI can set its exit code.
   *
   * @throws UserError after {@link ChatReply#failed} was told
   */
  public ImageReply imagine(ImagineCommand command, ChatReply reply) {
    String jobId = jobIds.next();
    try {
      GenerationRequest request = withSeed(plan(command), command.requester());
      reply.accepted(jobId, request);
      List<ReferenceImage> refs = references.fetchAll(command.attachments());
      request = withSize(request, refs);
      ImageBackend backend = router.route(request);
      GenerationJob job = new GenerationJob(jobId, request, refs);
      log.info("job {}: {} {} {} seed {} on {}", jobId, command.requester().key(), request.model().id(),
          request.size(), request.seed(), backend.name());
      GenerationResult result = backend.generate(job, reply::progress);
      seeds.remember(command.requester(), result.seed());
      ImageReply done = new ImageReply(jobId, request, result, false, List.of(ImageReply.FollowUp.values()));
      reply.image(done);
      return done;
    } catch (UserError e) {
      log.info("job {}: {} {}", jobId, e.code(), e.getMessage());
      reply.failed(e);
      throw e;
    } catch (RuntimeException e) {
      log.error("job {} failed unexpectedly", jobId, e);
      UserError error = new UserError(UserError.Code.BACKEND_FAILED,
          "Something went wrong on our side (job " + jobId + "); try again, and tell the admin if it repeats.", e);
      reply.failed(error);
      throw error;
    }
  }

  private GenerationRequest withSeed(GenerationRequest request, Requester requester) {
    if (request.seedFromLast()) {
      OptionalLong last = seeds.lastSeed(requester);
      if (last.isEmpty()) {
        throw new UserError(UserError.Code.INVALID_OPTION,
            "--seed last: you have no earlier image to take the seed from; got last. Give a number, e.g. --seed 42.");
      }
      return request.withSeed(last.getAsLong());
    }
    return request.seed() != null ? request : request.withSeed(random.nextLong(GenerationRequest.MAX_SEED + 1));
  }

  /** Without --ar or --size, the output takes the first reference's ratio at about 1 MP. */
  static GenerationRequest withSize(GenerationRequest request, List<ReferenceImage> refs) {
    if (request.size() != null) {
      return request;
    }
    ModelSpec.SizeRules rules = request.model().sizeRules();
    ImageSize size = AspectPreset.SQUARE_1_1.size();
    if (!refs.isEmpty()) {
      long w = refs.get(0).width();
      long h = refs.get(0).height();
      w = Math.min(w, h * Sizes.MAX_RATIO);
      h = Math.min(h, w * Sizes.MAX_RATIO);
      size = Sizes.ofRatio(w, h, rules);
    }
    return request.withSize(request.hiRes() ? Sizes.twoK(size, rules) : size);
  }
}
