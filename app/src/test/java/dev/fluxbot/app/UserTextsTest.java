package dev.fluxbot.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No sentence a chat user reads is written in the code: each comes from core's message bundles
 * ({@code core/src/main/resources/dev/fluxbot/core/messages*.properties}). The test reads the main
 * sources of core, the local runtime and the three adapters and finds the string literals that
 * reach a user: the arguments of {@code new UserError(…)}, of the calls that send text to a chat
 * (reply, sendMessage, editOriginal, text, caption, mistake, respond, tellUser, status, answer…),
 * and every literal in the text classes (ChatTexts, QuotaMessages, the adapters' Texts). A literal
 * counts when it holds prose (a word beside a space), or is one capitalized word in a send call
 * ("Original").
 *
 * <p>Texts not moved yet are listed in {@code untranslated-texts.txt} (path and literal), a list
 * that only shrinks: a new literal fails the test with its file and line and says where to move it;
 * a listed literal that is gone fails it too, so that the list is kept exact.
 */
class UserTextsTest {
  private static final List<String> SOURCES =
      List.of(
          "core/src/main/java",
          "runtime-local/src/main/java",
          "bot-discord/src/main/java",
          "bot-telegram/src/main/java",
          "bot-slack/src/main/java");

  /** Classes whose every worded literal is a text for users. */
  private static final Set<String> TEXT_CLASSES =
      Set.of(
          "ChatTexts.java",
          "ChatAdmin.java",
          "AdminWords.java",
          "ChatSettings.java",
          "QuotaMessages.java",
          "Texts.java");

  /** Calls whose arguments are sent to a chat user. */
  private static final Pattern USER_CALL =
      Pattern.compile(
          "(new\\s+UserError|\\.reply|\\.sendMessage|\\.editOriginal|\\.setContent|\\.text"
              + "|\\.caption|\\.mistake|\\brespond|\\btellUser|\\bephemeral|\\bstatus|\\banswer"
              + "|\\bsend|\\.errors|\\.setPlaceholder|Label\\.of|Button\\.\\w+|\\bbutton"
              + "|new\\s+BotCommand|Modals\\.prompt)\\s*\\(");

  /** Prose: a word of two letters or more beside a space ("Use ", " must be"). */
  private static final Pattern WORDS = Pattern.compile("\\p{L}{2,}\\s|\\s\\p{L}{2,}");

  private static final Pattern CAPITALIZED_WORD = Pattern.compile("^\\p{Lu}\\p{Ll}{2,}$");

  /**
   * Literals that hold words but are not text for users: log-free formats, Slack's date token, API
   * names. Each is matched exactly.
   */
  private static final Set<String> NOT_TEXT =
      Set.of(
          "EEE d MMM HH:mm 'UTC'", // date formats (Locale.ROOT: a zone's name, no words)
          "EEE d MMM HH:mm",
          "^{date_short_pretty} at {time}|", // Slack's date token: Slack shows it in the reader's
          "%.1f MB", // a size: a number and a unit
          " min", // a span's unit ("5 h 12 min"), the same in English, German and Spanish
          "--seed ", // flags in a suggested command: option names stay English
          " --res 1k",
          " --format jpeg",
          "POST only", // the Request URL server's answers to Slack's servers, not to a user
          "request too large",
          "not a Slack request",
          "internal error");

  private static final String BASELINE = "/untranslated-texts.txt";

  record Found(String path, int line, String literal) {
    String key() {
      return path + " | " + literal;
    }
  }

  @Test
  void everyUserFacingSentenceIsInTheBundles() throws IOException {
    Path root = root();
    Set<String> baseline = baseline();
    List<Found> found = scan(root);
    String write = System.getProperty("fluxbot.untranslatedTexts");
    if (write != null) { // regenerates the list (for a reviewer who moved texts): see the docs
      Files.writeString(
          Path.of(write),
          "# Texts that reach chat users and are not in the message bundles yet (UserTextsTest).\n"
              + "# path | literal. Only ever delete lines: move the text into the bundles instead.\n"
              + String.join("\n", found.stream().map(Found::key).distinct().toList())
              + "\n");
    }
    List<String> problems = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (Found f : found) {
      seen.add(f.key());
      if (!baseline.contains(f.key())) {
        problems.add(
            f.path()
                + ":"
                + f.line()
                + ": the literal \""
                + f.literal()
                + "\" reaches a chat user. Move it into"
                + " core/src/main/resources/dev/fluxbot/core/messages.properties (and messages_de,"
                + " messages_es) under a key, and use Messages.format(locale, key, …), Msg.of or"
                + " UserError.of(code, key, …) here.");
      }
    }
    for (String listed : baseline) {
      if (!seen.contains(listed)) {
        problems.add(
            "untranslated-texts.txt lists \""
                + listed
                + "\", which is no longer in the code: delete that line.");
      }
    }
    assertThat(problems).as("texts outside the bundles").isEmpty();
  }

  @Test
  void theScanFindsAnEnglishSentenceHandedToAUserError() {
    String code =
        "class X { void f() { throw new UserError(Code.INVALID_OPTION, \"--n: must be 1 to 4; \""
            + " + n + \". Use --n 4.\"); log.info(\"not a user text at all\"); } }";
    assertThat(literalsReachingUsers("core/X.java", code))
        .extracting(Found::literal)
        .containsExactly("--n: must be 1 to 4; ", ". Use --n 4.");
  }

  @Test
  void theScanSkipsCommentsKeysAndLogs() {
    String code =
        "class X { // new UserError(c, \"in a comment\")\n"
            + "  void f() { throw UserError.of(Code.X, \"error.option.invalid\", \"--ar\");"
            + " log.warn(\"slack: users.info failed for this user\"); } }";
    assertThat(literalsReachingUsers("core/X.java", code)).isEmpty();
  }

  private static Path root() {
    Path here = Path.of("").toAbsolutePath();
    for (Path p = here; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("core/src/main/java"))) {
        return p;
      }
    }
    throw new IllegalStateException("no core/src/main/java above " + here);
  }

  private static Set<String> baseline() throws IOException {
    Set<String> lines = new LinkedHashSet<>();
    try (var in = UserTextsTest.class.getResourceAsStream(BASELINE)) {
      if (in == null) {
        return lines;
      }
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank() && !line.startsWith("#")) {
          lines.add(line);
        }
      }
    }
    return lines;
  }

  private static List<Found> scan(Path root) throws IOException {
    List<Found> found = new ArrayList<>();
    for (String dir : SOURCES) {
      try (Stream<Path> files = Files.walk(root.resolve(dir))) {
        for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
          String path = root.relativize(file).toString().replace('\\', '/');
          found.addAll(literalsReachingUsers(path, Files.readString(file)));
        }
      }
    }
    return found;
  }

  /** The worded literals of one source file that reach a user. */
  static List<Found> literalsReachingUsers(String path, String source) {
    JavaLiterals lexed = JavaLiterals.of(source);
    boolean textClass = TEXT_CLASSES.contains(path.substring(path.lastIndexOf('/') + 1));
    List<int[]> callArgs = new ArrayList<>();
    Matcher m = USER_CALL.matcher(lexed.code());
    while (m.find()) {
      int close = lexed.closingParen(m.end() - 1);
      callArgs.add(new int[] {m.end(), close});
    }
    List<Found> found = new ArrayList<>();
    for (JavaLiterals.Literal lit : lexed.literals()) {
      if (NOT_TEXT.contains(lit.value())) {
        continue;
      }
      boolean inCall = callArgs.stream().anyMatch(r -> lit.start() >= r[0] && lit.start() < r[1]);
      boolean words = WORDS.matcher(lit.value()).find();
      boolean label = CAPITALIZED_WORD.matcher(lit.value().strip()).matches();
      if ((textClass && words) || (inCall && (words || label))) {
        found.add(new Found(path, lit.line(), lit.value()));
      }
    }
    return found;
  }
}
