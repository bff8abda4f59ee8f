package dev.fluxbot.core.store;

import dev.fluxbot.core.Enhancement;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code --enhance} keeps (V12): each job's prompt as typed beside the enhanced one its
 * request holds, and the enhancements already made, so the same prompt is enhanced the same way
 * again.
 */
public final class EnhanceStore {
  private final Database db;
  private final InstantSource clock;

  public EnhanceStore(Database db, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Keeps what the enhancement did for a job (written before the job's own row). */
  public void recordJob(String jobId, Enhancement e) {
    db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "INSERT INTO job_prompts (job_id, original_prompt, enhanced_prompt, enhancer, note,"
                      + " created_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            st.setString(1, jobId);
            st.setString(2, e.original());
            st.setString(3, e.enhanced());
            st.setString(4, e.enhancer());
            st.setString(5, e.note());
            st.setLong(6, clock.millis());
            return st.executeUpdate();
          }
        });
  }

  /** Forgets a job's enhancement: its job was refused before its row was written. */
  public void forgetJob(String jobId) {
    db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement("DELETE FROM job_prompts WHERE job_id = ?")) {
            st.setString(1, jobId);
            return st.executeUpdate();
          }
        });
  }

  /** What the enhancement did for a job; empty where none was asked for. */
  public Optional<Enhancement> forJob(String jobId) {
    return db.read(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT original_prompt, enhanced_prompt, enhancer, note FROM job_prompts"
                      + " WHERE job_id = ?")) {
            st.setString(1, jobId);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next()
                  ? Optional.of(
                      new Enhancement(
                          rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)))
                  : Optional.<Enhancement>empty();
            }
          }
        });
  }

  /** An enhancement made before for this enhancer ({@code identity}) and prompt. */
  public Optional<String> cached(String identity, String prompt) {
    String key = key(identity, prompt);
    return db.read(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT enhanced_prompt FROM prompt_enhancements WHERE cache_key = ?")) {
            st.setString(1, key);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
            }
          }
        });
  }

  /** Keeps an enhancement for the next time; the first one kept for a prompt stays. */
  public void cache(String identity, String prompt, String enhanced) {
    String key = key(identity, prompt);
    db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "INSERT INTO prompt_enhancements (cache_key, enhanced_prompt, created_at)"
                      + " VALUES (?, ?, ?) ON CONFLICT (cache_key) DO NOTHING")) {
            st.setString(1, key);
            st.setString(2, enhanced);
            st.setLong(3, clock.millis());
            return st.executeUpdate();
          }
        });
  }

  static String key(String identity, String prompt) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(identity.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      return HexFormat.of().formatHex(sha.digest(prompt.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
    }
  }
}
