package dev.fluxbot.core.model;

import java.util.Locale;
import java.util.Optional;

/** The image types fluxbot reads and writes; the names are BFL's {@code output_format} values. */
public enum ImageType {
  JPEG("jpeg", "image/jpeg", "jpg"),
  PNG("png", "image/png", "png"),
  WEBP("webp", "image/webp", "webp");

  private final String apiName;
  private final String mediaType;
  private final String extension;

  ImageType(String apiName, String mediaType, String extension) {
    this.apiName = apiName;
    this.mediaType = mediaType;
    this.extension = extension;
  }

  /** The name BFL's API uses ({@code jpeg}, {@code png}, {@code webp}). */
  public String apiName() {
    return apiName;
  }

  public String mediaType() {
    return mediaType;
  }

  /** The usual file extension, without the dot. */
  public String extension() {
    return extension;
  }

  /**
   * Parses a user's format name: {@code jpeg}, {@code jpg}, {@code png}, {@code webp}, any case.
   */
  public static Optional<ImageType> fromName(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    return switch (n) {
      case "jpeg", "jpg" -> Optional.of(JPEG);
      case "png" -> Optional.of(PNG);
      case "webp" -> Optional.of(WEBP);
      default -> Optional.empty();
    };
  }
}
