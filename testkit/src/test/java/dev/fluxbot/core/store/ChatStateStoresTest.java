package dev.fluxbot.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fluxbot.testkit.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The message groups and the pending forms, on SQLite and on a real PostgreSQL, where two {@link
 * Database} objects on one database play two bot instances.
 */
class ChatStateStoresTest {
  @TempDir Path dir;

  @Test
  void groupsOnSqlite() throws Exception {
    try (Database db = Database.sqlite(dir.resolve("fluxbot.db"))) {
      groups(db, db);
    }
  }

  @Test
  void groupsOnPostgres() throws Exception {
    try (Database one = DatabaseTest.postgres()) {
      try (Database two = Database.open(urlOf(one), null, null)) {
        groups(one, two);
      }
    }
  }

  @Test
  void formsOnSqlite() {
    try (Database db = Database.sqlite(dir.resolve("fluxbot.db"))) {
      forms(db, db);
    }
  }

  @Test
  void formsOnPostgres() {
    try (Database one = DatabaseTest.postgres()) {
      try (Database two = Database.open(urlOf(one), null, null)) {
        forms(one, two);
      }
    }
  }

  private static String urlOf(Database db) {
    return ((com.zaxxer.hikari.HikariDataSource) db.dataSource()).getJdbcUrl();
  }

  private static void groups(Database dbA, Database dbB) throws Exception {
    MutableClock clock = new MutableClock();
    MessageGroups a = new MessageGroups(dbA, clock);
    MessageGroups b = new MessageGroups(dbB, clock);

    MessageGroups.Added first = a.add("telegram:1:album", "11", "{\"id\":11}");
    MessageGroups.Added second = b.add("telegram:1:album", "12", "{\"id\":12}");
    MessageGroups.Added third = a.add("telegram:1:album", "13", "{\"id\":13}");
    b.add("telegram:1:album", "12", "{\"id\":12}"); // the same item again: kept once
    assertThat(List.of(first.late(), second.late(), third.late())).containsOnly(false);
    assertThat(b.recent("telegram:1:album")).as("not claimed yet").isEmpty();

    assertThat(a.claim("telegram:1:album", first.token())).as("a later item came").isEmpty();
    assertThat(b.claim("telegram:1:album", second.token())).isEmpty();
    MessageGroups.Added fourth = b.add("telegram:1:album", "14", "{\"id\":14}");
    assertThat(a.claim("telegram:1:album", third.token())).as("the fourth came after").isEmpty();
    assertThat(b.claim("telegram:1:album", fourth.token()))
        .contains(List.of("{\"id\":11}", "{\"id\":12}", "{\"id\":13}", "{\"id\":14}"));
    assertThat(b.claim("telegram:1:album", fourth.token())).as("claimed once").isEmpty();

    MessageGroups.Added late = a.add("telegram:1:album", "15", "{\"id\":15}");
    assertThat(late.late()).isTrue();
    assertThat(a.claim("telegram:1:album", late.token())).isEmpty();
    assertThat(a.recent("telegram:1:album").orElseThrow()).hasSize(5);
    assertThat(a.recent("telegram:1:other")).isEmpty();

    racingClaimsMakeOneWinner(a, b);

    clock.advance(MessageGroups.KEEP.plusMinutes(1));
    a.prune(clock.millis() - MessageGroups.KEEP.toMillis());
    assertThat(a.recent("telegram:1:album")).as("forgotten after KEEP").isEmpty();
  }

  /** Each instance races to claim with the same (last) token: one gets the items. */
  private static void racingClaimsMakeOneWinner(MessageGroups a, MessageGroups b) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int round = 0; round < 10; round++) {
        String group = "telegram:1:race" + round;
        a.add(group, "1", "one");
        String token = b.add(group, "2", "two").token();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Optional<List<String>>>> claims = new ArrayList<>();
        for (MessageGroups g : List.of(a, b, a, b)) {
          claims.add(
              pool.submit(
                  () -> {
                    go.await();
                    return g.claim(group, token);
                  }));
        }
        go.countDown();
        List<List<String>> won = Collections.synchronizedList(new ArrayList<>());
        for (Future<Optional<List<String>>> f : claims) {
          f.get().ifPresent(won::add);
        }
        assertThat(won).as("round " + round).containsExactly(List.of("one", "two"));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void forms(Database dbA, Database dbB) {
    MutableClock clock = new MutableClock();
    PendingForms a = new PendingForms(dbA, clock);
    PendingForms b = new PendingForms(dbB, clock);

    String key = a.put("{\"files\":[1,2]}", Duration.ofMinutes(30));
    assertThat(key).matches("[0-9a-f]{32}");
    assertThat(b.take(key)).as("taken by another instance").contains("{\"files\":[1,2]}");
    assertThat(a.take(key)).as("once").isEmpty();

    String expiring = a.put("old", Duration.ofMinutes(30));
    clock.advance(Duration.ofMinutes(31));
    assertThat(b.take(expiring)).as("expired").isEmpty();
    String stale = a.put("stale", Duration.ofMinutes(30));
    clock.advance(Duration.ofMinutes(31));
    a.put("fresh", Duration.ofMinutes(30)); // deletes the expired ones
    assertThat(count(dbA)).isEqualTo(1);
    assertThat(b.take(stale)).isEmpty();
    assertThat(b.take("nope")).isEmpty();
    assertThat(b.take(null)).isEmpty();
    assertThat(b.take("x".repeat(500))).isEmpty();
  }

  private static long count(Database db) {
    return db.read(
        c -> {
          try (var st = c.prepareStatement("SELECT count(*) FROM pending_forms");
              var rs = st.executeQuery()) {
            rs.next();
            return rs.getLong(1);
          }
        });
  }
}
