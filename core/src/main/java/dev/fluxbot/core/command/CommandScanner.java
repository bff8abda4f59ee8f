package dev.fluxbot.core.command;

import dev.fluxbot.core.Text;
import dev.fluxbot.core.UserError;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits command text into flags and the prompt. Flags are read only outside JSON objects and
 * closed double-quoted spans; everything else is kept verbatim, with one space where a flag was
 * cut.
 */
final class CommandScanner {
  record Flag(CommandOption option, String value) {}

  record Result(String prompt, List<Flag> flags) {}

  private final String text;
  private final List<Flag> flags = new ArrayList<>();
  private final StringBuilder prompt = new StringBuilder();
  private int keptFrom;

  private CommandScanner(String text) {
    this.text = text;
  }

  static Result scan(String text) {
    CommandScanner s = new CommandScanner(text);
    s.run();
    return new Result(s.prompt.toString().strip(), List.copyOf(s.flags));
  }

  private void run() {
    int i = 0;
    int n = text.length();
    int j;
    while (i < n) {
      char c = text.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '{' && (j = jsonEnd(i)) > 0) {
        i = j;
      } else if (isQuote(c) && (j = quoteEnd(i)) > 0) {
        i = j;
      } else if ((j = flagNameStart(i)) > 0) {
        i = readFlag(i, j);
      } else {
        i = tokenEnd(i);
      }
    }
    keep(text.length());
  }

  /** Where the flag's name begins, or -1: {@code --x}, or an em dash before a known option. */
  private int flagNameStart(int i) {
    if (text.startsWith("--", i)
        && i + 2 < text.length()
        && Character.isLetter(text.charAt(i + 2))) {
      return i + 2;
    }
    if (text.charAt(i) == '\u2014'
        && i + 1 < text.length()
        && Character.isLetter(text.charAt(i + 1))) {
      String name = text.substring(i + 1, nameEnd(i + 1));
      return CommandOption.byName(name).isPresent() ? i + 1 : -1;
    }
    return -1;
  }

  private int readFlag(int start, int nameStart) {
    int nameEnd = nameEnd(nameStart);
    String name = text.substring(nameStart, nameEnd);
    CommandOption option =
        CommandOption.byName(name)
            .orElseThrow(
                () ->
                    UserError.of(
                        UserError.Code.UNKNOWN_OPTION,
                        "error.option.unknown_flag",
                        "--" + Text.quote(name).replace("\"", ""),
                        CommandOption.knownNames()));
    int end = nameEnd;
    String value = "";
    if (end < text.length() && text.charAt(end) == '=') {
      int valueEnd = valueEnd(end + 1);
      value = unquote(text.substring(end + 1, valueEnd));
      end = valueEnd;
    } else if (option.takesValue()) {
      int valueStart = skipSpace(end);
      if (valueStart >= text.length() || flagNameStart(valueStart) > 0) {
        throw UserError.of(
            UserError.Code.INVALID_OPTION, "error.option.no_value", option.flag(), example(option));
      }
      end = valueEnd(valueStart);
      value = unquote(text.substring(valueStart, end));
    }
    keep(start);
    flags.add(new Flag(option, value));
    keptFrom = end;
    return end;
  }

  private static String example(CommandOption option) {
    return switch (option) {
      case MODEL -> "--model pro";
      case AR -> "--ar 16:9";
      case SIZE -> "--size 1536x1024";
      case RES -> "--res 2k";
      case SEED -> "--seed 42";
      case STEPS -> "--steps 28";
      case GUIDANCE -> "--guidance 4.5";
      case FORMAT -> "--format png";
      case SAFETY -> "--safety 2";
      case NO_CACHE -> "--no-cache";
      case REPEAT -> "--repeat 2";
      case N -> "--n 4";
      case ENHANCE -> "--enhance";
      case NO_ENHANCE -> "--no-enhance";
    };
  }

  /** Appends the kept text before {@code cut}, joining pieces with one space. */
  private void keep(int cut) {
    String piece = text.substring(keptFrom, cut);
    boolean joining = keptFrom > 0 && !prompt.isEmpty();
    if (joining) {
      piece = stripLeadingBlanks(piece);
      while (!prompt.isEmpty() && isBlank(prompt.charAt(prompt.length() - 1))) {
        prompt.setLength(prompt.length() - 1);
      }
      if (!piece.isEmpty()
          && !prompt.isEmpty()
          && piece.charAt(0) != '\n'
          && prompt.charAt(prompt.length() - 1) != '\n') {
        prompt.append(' ');
      }
    }
    prompt.append(piece);
  }

  private static String stripLeadingBlanks(String s) {
    int i = 0;
    while (i < s.length() && isBlank(s.charAt(i))) {
      i++;
    }
    return s.substring(i);
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t' || c == '\u00a0';
  }

  private int nameEnd(int i) {
    while (i < text.length()
        && (Character.isLetterOrDigit(text.charAt(i))
            || text.charAt(i) == '-'
            || text.charAt(i) == '_')) {
      i++;
    }
    return i;
  }

  private int skipSpace(int i) {
    while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
      i++;
    }
    return i;
  }

  private int valueEnd(int i) {
    if (i < text.length() && isQuote(text.charAt(i)) && quoteEnd(i) > 0) {
      return quoteEnd(i);
    }
    return tokenEnd(i);
  }

  private int tokenEnd(int i) {
    while (i < text.length() && !Character.isWhitespace(text.charAt(i))) {
      i++;
    }
    return i;
  }

  private static String unquote(String v) {
    if (v.length() >= 2 && isQuote(v.charAt(0)) && isQuote(v.charAt(v.length() - 1))) {
      return v.substring(1, v.length() - 1);
    }
    return v;
  }

  private static boolean isQuote(char c) {
    return c == '"' || c == '\u201c' || c == '\u201d';
  }

  /** The index after the closing quote of a span opened at {@code i}, or -1 if it never closes. */
  private int quoteEnd(int i) {
    for (int j = i + 1; j < text.length(); j++) {
      if (isQuote(text.charAt(j))) {
        return j + 1;
      }
    }
    return -1;
  }

  /**
   * The index after a JSON object that starts at {@code i}, or -1 if no valid object starts there.
   */
  private int jsonEnd(int i) {
    return jsonEnd(text, i, CommandParser::isJsonObject);
  }

  /**
   * The index after the balanced JSON value that starts at {@code start} in {@code text} (strings
   * and escapes skipped), when {@code accept} takes it; else -1. Shared with {@link
   * PromptVariants}.
   */
  static int jsonEnd(String text, int start, java.util.function.Predicate<String> accept) {
    int depth = 0;
    boolean inString = false;
    for (int j = start; j < text.length(); j++) {
      char c = text.charAt(j);
      if (inString) {
        if (c == '\\') {
          j++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        depth--;
        if (depth == 0) {
          return accept.test(text.substring(start, j + 1)) ? j + 1 : -1;
        }
      }
    }
    return -1;
  }
}
