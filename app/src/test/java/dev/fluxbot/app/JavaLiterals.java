package dev.fluxbot.app;

import java.util.ArrayList;
import java.util.List;

/**
 * A Java source's string literals (plain and text blocks, escapes undone as far as a reader cares),
 * and its code with comments and literals blanked out, so that a pattern finds calls and never text
 * inside a comment or a string. Offsets in {@link #code()} are the source's own.
 */
record JavaLiterals(String code, List<Literal> literals) {
  record Literal(int start, int line, String value) {}

  static JavaLiterals of(String src) {
    StringBuilder code = new StringBuilder(src);
    List<Literal> literals = new ArrayList<>();
    int i = 0;
    int line = 1;
    while (i < src.length()) {
      char c = src.charAt(i);
      if (c == '\n') {
        line++;
        i++;
      } else if (src.startsWith("//", i)) {
        int end = src.indexOf('\n', i);
        end = end < 0 ? src.length() : end;
        blank(code, i, end);
        i = end;
      } else if (src.startsWith("/*", i)) {
        int end = src.indexOf("*/", i + 2);
        end = end < 0 ? src.length() : end + 2;
        line += count(src, i, end);
        blank(code, i, end);
        i = end;
      } else if (src.startsWith("\"\"\"", i)) {
        int end = src.indexOf("\"\"\"", i + 3);
        end = end < 0 ? src.length() : end + 3;
        literals.add(new Literal(i, line, src.substring(i + 3, Math.max(i + 3, end - 3)).strip()));
        line += count(src, i, end);
        blank(code, i, end);
        i = end;
      } else if (c == '"' || c == '\'') {
        int j = i + 1;
        StringBuilder value = new StringBuilder();
        while (j < src.length() && src.charAt(j) != c && src.charAt(j) != '\n') {
          if (src.charAt(j) == '\\' && j + 1 < src.length()) {
            char e = src.charAt(j + 1);
            value.append(e == 'n' ? '\n' : e == 't' ? '\t' : e);
            j += 2;
          } else {
            value.append(src.charAt(j++));
          }
        }
        if (c == '"') {
          literals.add(new Literal(i, line, value.toString()));
        }
        blank(code, i, Math.min(src.length(), j + 1));
        i = j + 1;
      } else {
        i++;
      }
    }
    return new JavaLiterals(code.toString(), literals);
  }

  /** The offset of the parenthesis that closes the one at {@code open}, in the blanked code. */
  int closingParen(int open) {
    int depth = 0;
    for (int i = open; i < code.length(); i++) {
      char c = code.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')' && --depth == 0) {
        return i;
      }
    }
    return code.length();
  }

  private static void blank(StringBuilder code, int from, int to) {
    for (int i = from; i < to; i++) {
      if (code.charAt(i) != '\n') {
        code.setCharAt(i, ' ');
      }
    }
  }

  private static int count(String s, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      if (s.charAt(i) == '\n') {
        n++;
      }
    }
    return n;
  }
}
