package dev.fluxbot.core.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fluxbot.core.Requester;
import dev.fluxbot.core.command.CommandParser;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What admins set per scope (the default model, the highest safety tolerance, the channels the bot
 * answers in) and what each user prefers (model, aspect, format). Both feed the parser as a {@link
 * CommandParser.Context}.
 */
public final class SettingsStore {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A scope's settings; every field may be null (then the bot's own setting applies).
   *
   * @param allowedChannels null: every channel
   */
  public record ScopeSettings(String defaultModel, Integer maxSafety, Set<String> allowedChannels) {
    public static final ScopeSettings NONE = new ScopeSettings(null, null, null);

    public ScopeSettings {
      allowedChannels = allowedChannels == null ? null : Set.copyOf(allowedChannels);
    }

    public boolean allows(String channelId) {
      return allowedChannels == null || allowedChannels.contains(channelId);
    }
  }

  /** A user's defaults; each may be null. */
  public record UserDefaults(String model, String aspect, String format) {
    public static final UserDefaults NONE = new UserDefaults(null, null, null);

    /** As parser options ({@code model}, {@code aspect}, {@code format}). */
    public Map<String, String> asOptions() {
      Map<String, String> o = new LinkedHashMap<>();
      if (model != null) {
        o.put("model", model);
      }
      if (aspect != null) {
        o.put("aspect", aspect);
      }
      if (format != null) {
        o.put("format", format);
      }
      return o;
    }
  }

  private final Database db;
  private final InstantSource clock;
  private final CountDefaults counts;

  public SettingsStore(Database db, InstantSource clock) {
    this.db = Objects.requireNonNull(db, "db");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.counts = new CountDefaults(db, clock);
  }

  /** The defaults for {@code --n}, a user's and a scope's. */
  public CountDefaults counts() {
    return counts;
  }

  /** The database these settings live in (the word filters' store shares it). */
  public Database database() {
    return db;
  }

  public ScopeSettings scope(String platform, String scopeId) {
    if (scopeId == null) {
      return ScopeSettings.NONE;
    }
    return db.read(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT default_model, max_safety, allowed_channels FROM scope_settings WHERE platform = ? AND scope_id = ?")) {
            st.setString(1, platform);
            st.setString(2, scopeId);
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) {
                return ScopeSettings.NONE;
              }
              int safety = rs.getInt(2);
              Integer maxSafety = rs.wasNull() ? null : safety;
              String channels = rs.getString(3);
              Set<String> allowed = null;
              if (channels != null) {
                allowed = new TreeSet<>();
                for (var n : JSON.readTree(channels)) {
                  allowed.add(n.asText());
                }
              }
              return new ScopeSettings(rs.getString(1), maxSafety, allowed);
            } catch (JsonProcessingException e) {
              throw new SQLException("scope_settings.allowed_channels holds broken JSON", e);
            }
          }
        });
  }

  public void setScope(String platform, String scopeId, ScopeSettings s) {
    db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  """
          INSERT INTO scope_settings (platform, scope_id, default_model, max_safety, allowed_channels, updated_at)
          VALUES (?, ?, ?, ?, ?, ?)
          ON CONFLICT (platform, scope_id) DO UPDATE SET default_model = excluded.default_model,
            max_safety = excluded.max_safety, allowed_channels = excluded.allowed_channels,
            updated_at = excluded.updated_at""")) {
            st.setString(1, platform);
            st.setString(2, scopeId);
            st.setString(3, s.defaultModel());
            if (s.maxSafety() == null) {
              st.setNull(4, Types.INTEGER);
            } else {
              st.setInt(4, s.maxSafety());
            }
            st.setString(
                5,
                s.allowedChannels() == null
                    ? null
                    : JSON.writeValueAsString(new ArrayList<>(new TreeSet<>(s.allowedChannels()))));
            st.setLong(6, clock.millis());
            return st.executeUpdate();
          } catch (JsonProcessingException e) {
            throw new SQLException(e);
          }
        });
  }

  public UserDefaults user(String platform, String userId) {
    return db.read(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT default_model, default_aspect, default_format FROM user_settings WHERE platform = ? AND user_id = ?")) {
            st.setString(1, platform);
            st.setString(2, userId);
            try (ResultSet rs = st.executeQuery()) {
              return rs.next()
                  ? new UserDefaults(rs.getString(1), rs.getString(2), rs.getString(3))
                  : UserDefaults.NONE;
            }
          }
        });
  }

  public void setUser(String platform, String userId, UserDefaults d) {
    db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  """
          INSERT INTO user_settings (platform, user_id, default_model, default_aspect, default_format, updated_at)
          VALUES (?, ?, ?, ?, ?, ?)
          ON CONFLICT (platform, user_id) DO UPDATE SET default_model = excluded.default_model,
            default_aspect = excluded.default_aspect, default_format = excluded.default_format,
            updated_at = excluded.updated_at""")) {
            st.setString(1, platform);
            st.setString(2, userId);
            st.setString(3, d.model());
            st.setString(4, d.aspect());
            st.setString(5, d.format());
            st.setLong(6, clock.millis());
            return st.executeUpdate();
          }
        });
  }

  /**
   * A scope's default for {@code --enhance}: true on, false off, null where its admin set none (the
   * installation's {@code enhance.on_by_default} then decides).
   */
  public Boolean scopeEnhance(String platform, String scopeId) {
    if (scopeId == null) {
      return null;
    }
    return db.read(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "SELECT enhance FROM scope_settings WHERE platform = ? AND scope_id = ?")) {
            st.setString(1, platform);
            st.setString(2, scopeId);
            try (ResultSet rs = st.executeQuery()) {
              if (!rs.next()) {
                return (Boolean) null;
              }
              int v = rs.getInt(1);
              return rs.wasNull() ? null : (Boolean) (v == 1);
            }
          }
        });
  }

  /** Sets a scope's default for {@code --enhance}; null gives the decision back to the config. */
  public void setScopeEnhance(String platform, String scopeId, Boolean on) {
    db.transaction(
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  """
          INSERT INTO scope_settings (platform, scope_id, enhance, updated_at) VALUES (?, ?, ?, ?)
          ON CONFLICT (platform, scope_id) DO UPDATE SET enhance = excluded.enhance,
            updated_at = excluded.updated_at""")) {
            st.setString(1, platform);
            st.setString(2, scopeId);
            if (on == null) {
              st.setNull(3, Types.INTEGER);
            } else {
              st.setInt(3, on ? 1 : 0);
            }
            st.setLong(4, clock.millis());
            return st.executeUpdate();
          }
        });
  }

  /** The parser context for a requester: the scope's model and safety cap, the user's defaults. */
  public CommandParser.Context contextFor(Requester who) {
    ScopeSettings s = scope(who.platform(), who.scopeId());
    Map<String, String> defaults =
        new LinkedHashMap<>(user(who.platform(), who.userId()).asOptions());
    java.util.OptionalInt n = counts.user(who.platform(), who.userId());
    if (n.isEmpty()) {
      n = counts.scope(who.platform(), who.scopeId());
    }
    n.ifPresent(
        v -> defaults.put("n", Integer.toString(v))); // --n's default: the user's, else the scope's
    return new CommandParser.Context(defaults, s.defaultModel(), s.maxSafety());
  }
}
