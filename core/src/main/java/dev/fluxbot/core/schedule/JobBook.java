package dev.fluxbot.core.schedule;

import dev.fluxbot.core.schedule.JobScheduler.Listener;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;

/**
 * The scheduler's bookkeeping: the users' FIFOs, the rotation, the running counts and the job
 * index, and the dispatch and queue positions computed from them. Not thread-safe: {@link
 * JobScheduler} calls it only with its lock held, and it appends listener events to the outbox.
 */
final class JobBook {
  private final JobScheduler.Settings settings;
  private final Queue<Runnable> outbox;
  private final Map<String, Job> jobs = new HashMap<>();
  private final Map<String, UserQueue> users = new HashMap<>();
  private final LinkedHashSet<UserQueue> rotation = new LinkedHashSet<>();
  private final Map<String, Integer> runningByBackend = new HashMap<>();
  private int queuedCount;
  private int runningCount;

  JobBook(JobScheduler.Settings settings, Queue<Runnable> outbox) {
    this.settings = settings;
    this.outbox = outbox;
  }

  Job job(String jobId) {
    return jobs.get(jobId);
  }

  boolean contains(String jobId) {
    return jobs.containsKey(jobId);
  }

  int queued() {
    return queuedCount;
  }

  int running() {
    return runningCount;
  }

  int running(String backend) {
    return runningByBackend.getOrDefault(backend, 0);
  }

  /** Whether a job could start at once without passing over a waiting job. */
  boolean canStartNow(String userKey, String backend) {
    UserQueue user = users.get(userKey);
    return user == null
        ? backendHasRoom(backend)
        : user.waiting.isEmpty() && hasRoom(user, backend);
  }

  /** Counts a job as running without queueing it first. */
  void startNow(Job job) {
    UserQueue user = users.computeIfAbsent(job.user, UserQueue::new);
    jobs.put(job.id, job);
    markStarted(user, job);
  }

  /** Puts a job at the end of its user's FIFO, and the user in the rotation. */
  void enqueue(Job job) {
    jobs.put(job.id, job);
    UserQueue user = users.computeIfAbsent(job.user, UserQueue::new);
    user.waiting.add(job);
    rotation.add(user);
    queuedCount++;
  }

  void removeQueued(Job job) {
    UserQueue user = users.get(job.user);
    user.waiting.remove(job);
    jobs.remove(job.id);
    queuedCount--;
    if (user.waiting.isEmpty()) {
      rotation.remove(user);
      forgetIfIdle(user);
    }
  }

  /** Frees a running job's slots; true when no job runs any more. */
  boolean finish(Job job) {
    jobs.remove(job.id);
    UserQueue user = users.get(job.user);
    user.running--;
    forgetIfIdle(user);
    runningByBackend.merge(job.backend, -1, (a, b) -> a + b == 0 ? null : a + b);
    runningCount--;
    return runningCount == 0;
  }

  /** Starts every head job that has room, walking the rotation again while a walk started one. */
  List<Job> dispatch() {
    List<Job> launches = new ArrayList<>();
    boolean startedAny = true;
    while (startedAny && !rotation.isEmpty()) {
      startedAny = false;
      for (UserQueue user : rotation.toArray(UserQueue[]::new)) {
        if (canStartHead(user)) {
          launches.add(startHead(user));
          startedAny = true;
        }
      }
    }
    return launches;
  }

  private boolean canStartHead(UserQueue user) {
    return hasRoom(user, user.waiting.peek().backend);
  }

  /** Whether the user is under the per-user cap and {@code backend} under its own. */
  private boolean hasRoom(UserQueue user, String backend) {
    return user.running < settings.perUserCap() && backendHasRoom(backend);
  }

  private boolean backendHasRoom(String backend) {
    Integer cap = settings.backendCaps().get(backend);
    return cap == null || runningByBackend.getOrDefault(backend, 0) < cap;
  }

  private Job startHead(UserQueue user) {
    Job job = user.waiting.poll();
    rotation.remove(user);
    if (!user.waiting.isEmpty()) {
      rotation.add(user);
    }
    queuedCount--;
    markStarted(user, job);
    return job;
  }

  /** Counts the job as running for its user and backend, and queues its {@code started} event. */
  private void markStarted(UserQueue user, Job job) {
    runningCount++;
    user.running++;
    runningByBackend.merge(job.backend, 1, Integer::sum);
    job.state = State.RUNNING;
    job.position = 0;
    outbox.add(job.listener::started);
  }

  /** Recomputes the waiting jobs' positions; one that changed is told (it never rises). */
  void refreshPositions() {
    int rank = 0;
    for (Job job : inStartOrder()) {
      rank++;
      int position = job.position == 0 ? rank : Math.min(job.position, rank);
      if (position != job.position) {
        job.position = position;
        outbox.add(() -> job.listener.queued(position));
      }
    }
  }

  /** The waiting jobs in the order the rotation would start them if every cap were free. */
  List<Job> inStartOrder() {
    List<Job> order = new ArrayList<>(queuedCount);
    List<Iterator<Job>> round = new ArrayList<>(rotation.size());
    for (UserQueue user : rotation) {
      round.add(user.waiting.iterator());
    }
    while (!round.isEmpty()) {
      List<Iterator<Job>> next = new ArrayList<>(round.size());
      for (Iterator<Job> fifo : round) {
        order.add(fifo.next());
        if (fifo.hasNext()) {
          next.add(fifo);
        }
      }
      round = next;
    }
    return order;
  }

  private void forgetIfIdle(UserQueue user) {
    if (user.running == 0 && user.waiting.isEmpty()) {
      users.remove(user.key);
    }
  }

  enum State {
    QUEUED,
    RUNNING
  }

  static final class Job {
    final String id;
    final String user;
    final String backend;
    final Runnable task;
    final Listener listener;
    State state = State.QUEUED;
    int position; // last reported while queued; 0 before the first report and once started
    boolean cancelled;
    Thread thread;

    Job(String id, String user, String backend, Runnable task, Listener listener) {
      this.id = id;
      this.user = user;
      this.backend = backend;
      this.task = task;
      this.listener = listener;
    }
  }

  private static final class UserQueue {
    final String key;
    final ArrayDeque<Job> waiting = new ArrayDeque<>();
    int running;

    UserQueue(String key) {
      this.key = key;
    }
  }
}
