package dev.fluxbot.app;

import dev.fluxbot.core.ImageReply;
import dev.fluxbot.core.store.JobStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code fluxbot jobs …}: what ran, what runs, and picking up what a crash left behind. */
@Command(
    name = "jobs",
    mixinStandardHelpOptions = true,
    description = "Jobs in the store the bot uses.",
    subcommands = {
      JobsCli.ListJobs.class,
      JobsCli.Show.class,
      JobsCli.Cancel.class,
      JobsCli.Resume.class
    })
final class JobsCli {
  @CommandLine.ParentCommand Main main;

  abstract static class Base implements Callable<Integer> {
    @CommandLine.ParentCommand JobsCli parent;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public final Integer call() {
      return parent.main.withStore(spec, this::run);
    }

    abstract int run(Wiring wiring, PrintWriter out, PrintWriter err);

    static java.util.Optional<JobStore.Job> find(Wiring wiring, String id, PrintWriter err) {
      var job = wiring.jobs.find(id);
      if (job.isEmpty()) {
        err.println("fluxbot: no job " + id + "; see fluxbot jobs list.");
      }
      return job;
    }
  }

  @Command(name = "list", description = "The newest jobs.")
  static final class ListJobs extends Base {
    @Option(names = "--user", paramLabel = "PLATFORM:ID", description = "Only this user's.")
    String user;

    @Option(names = "--limit", defaultValue = "20")
    int limit;

    @Override
    int run(Wiring wiring, PrintWriter out, PrintWriter err) {
      UserSpec u = user == null ? null : UserSpec.parse("--user", user);
      List<JobStore.Job> jobs =
          wiring.jobs.list(
              u == null ? null : u.platform(), u == null ? null : u.id(), Math.max(1, limit));
      out.printf(
          Locale.ROOT,
          "%-26s %-10s %-24s %-12s %-10s %9s  %s%n",
          "id",
          "state",
          "user",
          "model",
          "size",
          "credits",
          "prompt");
      for (JobStore.Job j : jobs) {
        String size =
            j.width() != null ? j.width() + "x" + j.height() : String.valueOf(j.request().size());
        String credits =
            j.cached() ? "cached" : j.costMilli() == null ? "-" : QuotaCli.credits(j.costMilli());
        String prompt = j.request().prompt().replaceAll("\\s+", " ");
        out.printf(
            Locale.ROOT,
            "%-26s %-10s %-24s %-12s %-10s %9s  %s%n",
            j.id(),
            j.state(),
            j.requester().platform() + ":" + j.requester().userId(),
            j.request().model().id(),
            size,
            credits,
            prompt.length() > 50 ? prompt.substring(0, 50) + "…" : prompt);
      }
      return Main.OK;
    }
  }

  @Command(
      name = "show",
      description = {
        "One job in full.",
        "With -o, also writes its image (the original, also where chat got a preview) to a file."
      })
  static final class Show extends Base {
    @Parameters(paramLabel = "JOB_ID")
    String id;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "FILE",
        description = "Write the job's image to FILE.")
    Path output;

    @Override
    int run(Wiring wiring, PrintWriter out, PrintWriter err) {
      var job = find(wiring, id, err);
      if (job.isEmpty()) {
        return Main.USER_ERROR;
      }
      JobStore.Job j = job.get();
      DateTimeFormatter t = DateTimeFormatter.ISO_INSTANT;
      out.println("id:          " + j.id());
      out.println(
          "state:       "
              + j.state()
              + (j.errorCode() == null
                  ? ""
                  : " (" + j.errorCode() + ": " + j.errorMessage() + ")"));
      out.println(
          "user:        "
              + j.requester().platform()
              + ":"
              + j.requester().userId()
              + (j.requester().scopeId() == null ? "" : "@" + j.requester().scopeId()));
      out.println(
          "model:       " + j.request().model().id() + " (" + j.request().model().endpoint() + ")");
      out.println(
          "size:        "
              + (j.width() != null ? j.width() + "x" + j.height() : j.request().size()));
      out.println("seed:        " + j.request().seed());
      out.println("prompt:      " + j.request().prompt());
      out.println("references:  " + j.referenceHashes().size());
      out.println(
          "backend:     "
              + (j.backend() == null ? "-" : j.backend())
              + (j.task() == null ? "" : " task " + j.task().taskId()));
      out.println(
          "credits:     estimate "
              + QuotaCli.credits(j.estimateMilli())
              + ", charged "
              + (j.cached()
                  ? "cached"
                  : j.costMilli() == null ? "-" : QuotaCli.credits(j.costMilli())));
      out.println(
          "image:       "
              + (j.imageHash() == null
                  ? "-"
                  : j.imageHash() + " (" + j.imageType().apiName() + ")"));
      out.println("created:     " + t.format(j.createdAt()));
      out.println("finished:    " + (j.finishedAt() == null ? "-" : t.format(j.finishedAt())));
      if (j.parentJobId() != null) {
        out.println("follow-up:   " + j.followUp().label() + " of " + j.parentJobId());
      }
      return output == null ? Main.OK : writeImage(wiring, j, out, err);
    }

    private int writeImage(Wiring wiring, JobStore.Job j, PrintWriter out, PrintWriter err) {
      if (j.imageHash() == null) {
        err.println(
            "fluxbot: job "
                + j.id()
                + " has no image (it is "
                + j.state()
                + "); only a job that succeeded has one.");
        return Main.USER_ERROR;
      }
      var bytes = wiring.images.get(j.imageHash());
      if (bytes.isEmpty()) {
        err.println(
            "fluxbot: the image of job "
                + j.id()
                + " ("
                + j.imageHash()
                + ") is no longer in the image store "
                + "under "
                + Path.of(wiring.config.storage().dataDir(), "images")
                + ".");
        return Main.BACKEND_FAILURE;
      }
      try {
        FileReply.write(output, bytes.get(), j.id());
      } catch (IOException e) {
        err.println(
            "fluxbot: cannot write "
                + output
                + " ("
                + e.getClass().getSimpleName()
                + ": "
                + e.getMessage()
                + "); pick another path with -o.");
        return Main.USER_ERROR;
      }
      out.println(
          "Wrote "
              + output
              + " ("
              + j.imageType().apiName()
              + ", "
              + bytes.get().length
              + " bytes).");
      return Main.OK;
    }
  }

  @Command(
      name = "cancel",
      description = "Cancels a job that has not started yet and returns its credits.")
  static final class Cancel extends Base {
    @Parameters(paramLabel = "JOB_ID")
    String id;

    @Override
    int run(Wiring wiring, PrintWriter out, PrintWriter err) {
      var job = find(wiring, id, err);
      if (job.isEmpty()) {
        return Main.USER_ERROR;
      }
      if (job.get().state().isTerminal()) {
        err.println("fluxbot: job " + id + " has already ended (" + job.get().state() + ").");
        return Main.USER_ERROR;
      }
      if (!wiring.imagine.cancel(id)) {
        err.println(
            "fluxbot: job "
                + id
                + " is running in another process (the bot); it finishes there, or is "
                + "resumed after a restart.");
        return Main.USER_ERROR;
      }
      out.println("Cancelled " + id + "; its credits were returned.");
      return Main.OK;
    }
  }

  @Command(
      name = "resume",
      description = {
        "Finishes the CLI's jobs that a crash interrupted:",
        "a BFL task already started is polled again (not started twice); a queued job runs."
      })
  static final class Resume extends Base {
    @Override
    int run(Wiring wiring, PrintWriter out, PrintWriter err) {
      wiring.startLocal();
      if (wiring.local != null
          && wiring.local.config().spawn() != null
          && !ImagineCli.awaitLocal(wiring, err)) {
        return Main.BACKEND_FAILURE;
      }
      wiring.core.leases().releaseDeadOneShots("cli"); // a killed imagine's jobs: no need to wait
      List<CompletableFuture<ImageReply>> resumed =
          wiring.imagine.resumeUnfinished(
              j -> "cli".equals(j.requester().platform()),
              j -> FileReply.fromAddress(j.replyAddress(), err));
      int failed = 0;
      for (CompletableFuture<ImageReply> f : resumed) {
        try {
          ImageReply r = f.join();
          out.println(
              "Finished "
                  + r.jobId()
                  + ": "
                  + r.result().width()
                  + "x"
                  + r.result().height()
                  + ", seed "
                  + r.result().seed());
        } catch (CompletionException e) {
          failed++;
          err.println(
              "fluxbot: " + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()));
        }
      }
      out.println(
          resumed.isEmpty()
              ? "Nothing to resume."
              : "Resumed " + resumed.size() + " job(s), " + failed + " failed.");
      return failed == 0 ? Main.OK : Main.BACKEND_FAILURE;
    }
  }
}
