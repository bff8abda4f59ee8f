package dev.fluxbot.core.command;

import dev.fluxbot.core.Msg;
import dev.fluxbot.core.Text;
import dev.fluxbot.core.UserError;
import dev.fluxbot.core.model.GenerationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Prompt variants: {@code a {red, blue} fox} stands for two prompts, "a red fox" and "a blue fox".
 *
 * <p>The grammar (docs/imagine.md, "Prompt variants"):
 *
 * <ul>
 *   <li>A brace group {@code {x, y, z}} is one of its comma-separated alternatives; each
 *       alternative is trimmed of white space around it. Several groups multiply ({@code {a,b}
 *       {c,d}} is four prompts), the first group varying slowest.
 *   <li>Groups nest: {@code {a {b,c}, d}} is "a b", "a c" and "d".
 *   <li>{@code \{}, {@code \}}, {@code \,} and {@code \\} are a literal brace, comma and backslash;
 *       any other backslash is kept as typed. A comma outside every group is plain text.
 *   <li>An empty alternative ({@code {a,}}, {@code {}}, {@code { }}) is an error, and so is a brace
 *       that never closes or a closing brace that opens nothing (naming its character position).
 *   <li>A JSON object (a FLUX.2 structured prompt: an object with at least one member, as the whole
 *       prompt or inside it) is never expanded: its braces and commas are JSON's.
 *   <li>At most {@value #MAX_IMAGES} images per command: variants × {@code --repeat} × {@code --n}.
 * </ul>
 *
 * <p>Pure: no state, no I/O; every refusal is a {@link UserError} naming the field, the rule and
 * the value.
 */
public final class PromptVariants {
  /** The most images one command makes, variants, repeats and {@code --n} together. */
  public static final int MAX_IMAGES = 4;

  /** The most {@code --repeat} takes. */
  public static final int MAX_REPEAT = 4;

  private PromptVariants() {}

  /**
   * Every prompt {@code prompt} stands for, in order; a prompt without brace groups is itself.
   *
   * @throws UserError for unbalanced braces, an empty alternative, or more than {@value
   *     #MAX_IMAGES} prompts
   */
  public static List<String> expand(String prompt) {
    return expand(prompt, 1, 1);
  }

  /**
   * Like {@link #expand(String)}, where each prompt will run {@code repeat × n} times: refuses more
   * than {@value #MAX_IMAGES} images in total, saying the count and the limit.
   */
  public static List<String> expand(String prompt, int repeat, int n) {
    Objects.requireNonNull(prompt, "prompt");
    if (repeat < 1 || n < 1) {
      throw new IllegalArgumentException("repeat and n must be >= 1: " + repeat + ", " + n);
    }
    if (structured(prompt.strip())) {
      checkTotal(1, repeat, n);
      return List.of(prompt);
    }
    Node.Seq tree = new Reader(prompt).read();
    long variants = tree.count();
    checkTotal(variants, repeat, n);
    List<String> out = new ArrayList<>();
    for (StringBuilder sb : tree.expand()) {
      out.add(sb.toString());
    }
    return List.copyOf(out);
  }

  /**
   * The requests one parsed command stands for: each prompt variant, each {@code repeat} times, in
   * that order (variant-major). A typed seed is kept for every variant (so variants differ only in
   * their words) and advanced by one per repeat, like {@code --n}'s s, s+1, …; an untyped seed
   * stays null, so each request draws its own.
   *
   * @throws UserError as {@link #expand(String, int, int)}, with {@code n = 1}
   */
  public static List<GenerationRequest> requests(GenerationRequest parsed, int repeat) {
    List<GenerationRequest> out = new ArrayList<>();
    for (String prompt : expand(parsed.prompt(), repeat, 1)) {
      for (int r = 0; r < repeat; r++) {
        Long seed =
            parsed.seed() == null
                ? null
                : (parsed.seed() + r) % (GenerationRequest.MAX_SEED + 1); // wraps past the top
        out.add(
            new GenerationRequest(
                parsed.model(),
                prompt,
                parsed.size(),
                parsed.hiRes(),
                seed,
                parsed.seedFromLast(),
                parsed.steps(),
                parsed.guidance(),
                parsed.safetyTolerance(),
                parsed.format(),
                parsed.referenceCount(),
                parsed.noCache()));
      }
    }
    return List.copyOf(out);
  }

  /**
   * How many prompts {@code prompt} stands for (capped at a large number; never materialized).
   *
   * @throws UserError for unbalanced braces or an empty alternative
   */
  public static long count(String prompt) {
    return structured(prompt.strip()) ? 1 : new Reader(prompt).read().count();
  }

  /** A JSON object with at least one member (so {@code {}} stays an empty group, an error). */
  private static boolean structured(String text) {
    return text.indexOf('"') > 0 && CommandParser.isJsonObject(text);
  }

  private static void checkTotal(long variants, int repeat, int n) {
    long total = Node.mul(Node.mul(variants, repeat), n);
    if (total > MAX_IMAGES) {
      throw UserError.of(
          UserError.Code.INVALID_OPTION,
          "error.variants.total",
          MAX_IMAGES,
          total >= Node.CAP ? Msg.of("variants.more_than", Node.CAP) : Long.toString(total),
          variants >= Node.CAP
              ? Msg.of("variants.over", Node.CAP)
              : Msg.of(variants == 1 ? "variants.one" : "variants.many", variants),
          repeat,
          n,
          "{…}");
    }
  }

  /** The parsed prompt: literal text and brace groups. */
  private sealed interface Node {
    /** Counts saturate here, so a huge product neither overflows nor is built. */
    long CAP = 1_000_000;

    long count();

    List<StringBuilder> expand();

    static long mul(long a, long b) {
      return Math.min(CAP, a * b); // both are at most CAP, so the product fits a long
    }

    record Literal(String text) implements Node {
      @Override
      public long count() {
        return 1;
      }

      @Override
      public List<StringBuilder> expand() {
        return List.of(new StringBuilder(text));
      }
    }

    /** Pieces one after another: the product of their expansions. */
    record Seq(List<Node> parts) implements Node {
      @Override
      public long count() {
        long c = 1;
        for (Node p : parts) {
          c = mul(c, p.count());
        }
        return c;
      }

      @Override
      public List<StringBuilder> expand() {
        List<StringBuilder> acc = List.of(new StringBuilder());
        for (Node p : parts) {
          List<StringBuilder> next = new ArrayList<>();
          List<StringBuilder> tails = p.expand();
          for (StringBuilder head : acc) {
            for (StringBuilder tail : tails) {
              next.add(new StringBuilder(head).append(tail));
            }
          }
          acc = next;
        }
        return acc;
      }
    }

    /** A brace group: the union of its alternatives, each trimmed. */
    record Group(List<Seq> alternatives) implements Node {
      @Override
      public long count() {
        long c = 0;
        for (Seq a : alternatives) {
          c = Math.min(CAP, c + a.count());
        }
        return c;
      }

      @Override
      public List<StringBuilder> expand() {
        List<StringBuilder> out = new ArrayList<>();
        for (Seq a : alternatives) {
          for (StringBuilder sb : a.expand()) {
            out.add(new StringBuilder(sb.toString().strip()));
          }
        }
        return out;
      }
    }
  }

  /** A recursive-descent reader of the grammar, keeping each character's 1-based position. */
  private static final class Reader {
    private static final int MAX_DEPTH = 8;
    private final String text;
    private int i;
    private int depth;

    Reader(String text) {
      this.text = text;
    }

    Node.Seq read() {
      Node.Seq top = seq(false, -1);
      if (i < text.length()) { // only a '}' stops the top level early
        throw UserError.of(
            UserError.Code.INVALID_OPTION,
            "error.variants.stray_close",
            "}",
            i + 1,
            "{",
            Text.quote(text),
            "\\}");
      }
      return top;
    }

    /** Reads up to the end, or (inside a group) up to the ',' or '}' that ends an alternative. */
    private Node.Seq seq(boolean inGroup, int groupStart) {
      List<Node> parts = new ArrayList<>();
      StringBuilder literal = new StringBuilder();
      while (i < text.length()) {
        char c = text.charAt(i);
        if (c == '\\' && i + 1 < text.length() && "{},\\".indexOf(text.charAt(i + 1)) >= 0) {
          literal.append(text.charAt(i + 1));
          i += 2;
        } else if (c == '{') {
          int json = jsonEnd(i);
          if (json > 0) {
            literal.append(text, i, json);
            i = json;
          } else {
            flush(literal, parts);
            parts.add(group());
          }
        } else if (c == '}' || (c == ',' && inGroup)) {
          break;
        } else {
          literal.append(c);
          i++;
        }
      }
      if (inGroup && i >= text.length()) {
        throw UserError.of(
            UserError.Code.INVALID_OPTION,
            "error.variants.unclosed",
            "{",
            groupStart + 1,
            Text.quote(text),
            "}",
            "\\{");
      }
      flush(literal, parts);
      return new Node.Seq(List.copyOf(parts));
    }

    /** Reads a group starting at the '{' under {@code i}, through its '}'. */
    private Node.Group group() {
      int start = i;
      if (++depth > MAX_DEPTH) {
        throw UserError.of(
            UserError.Code.INVALID_OPTION,
            "error.variants.depth",
            "{…}",
            MAX_DEPTH,
            start + 1,
            "\\{");
      }
      i++;
      List<Node.Seq> alternatives = new ArrayList<>();
      while (true) {
        int altStart = i;
        Node.Seq alternative = seq(true, start);
        if (text.substring(altStart, i).isBlank()) {
          throw UserError.of(
              UserError.Code.INVALID_OPTION,
              "error.variants.empty",
              "{…}",
              start + 1,
              altStart + 1,
              Text.quote(text),
              "{red, blue}");
        }
        alternatives.add(alternative);
        char end = text.charAt(i++); // ',' or '}': seq() stops only there inside a group
        if (end == '}') {
          depth--;
          return new Node.Group(List.copyOf(alternatives));
        }
      }
    }

    private static void flush(StringBuilder literal, List<Node> parts) {
      if (!literal.isEmpty()) {
        parts.add(new Node.Literal(literal.toString()));
        literal.setLength(0);
      }
    }

    /**
     * The index after a JSON object with at least one member that starts at {@code start}, or -1.
     */
    private int jsonEnd(int start) {
      return CommandScanner.jsonEnd(text, start, PromptVariants::structured);
    }
  }
}
