package dev.fluxbot.slack;

import com.fasterxml.jackson.databind.JsonNode;
import com.slack.api.model.block.Blocks;
import com.slack.api.model.block.composition.BlockCompositions;
import com.slack.api.model.block.element.BlockElements;
import com.slack.api.model.view.View;
import com.slack.api.model.view.ViewState;
import com.slack.api.model.view.Views;
import java.io.IOException;
import java.util.Map;

/** The one form fluxbot opens: a prompt, with what it is for kept in {@code private_metadata}. */
final class Modals {
  /** The prompt input's block id and action id. */
  static final String PROMPT = "prompt";

  /** Slack's limit for a plain-text input. */
  static final int MAX_PROMPT = 3000;

  private Modals() {}

  /**
   * @param title at most 24 characters, as Slack allows
   */
  static View prompt(String callbackId, String title, String prefill, String metadata) {
    String initial = prefill.length() > MAX_PROMPT ? prefill.substring(0, MAX_PROMPT) : prefill;
    return Views.view(
        v ->
            v.type("modal")
                .callbackId(callbackId)
                .privateMetadata(metadata)
                .title(Views.viewTitle(t -> t.type("plain_text").text(title)))
                .submit(Views.viewSubmit(t -> t.type("plain_text").text("Imagine")))
                .close(Views.viewClose(t -> t.type("plain_text").text("Cancel")))
                .blocks(
                    Blocks.asBlocks(
                        Blocks.input(
                            i ->
                                i.blockId(PROMPT)
                                    .label(BlockCompositions.plainText("Prompt"))
                                    .element(
                                        BlockElements.plainTextInput(
                                            p -> {
                                              p.actionId(PROMPT)
                                                  .multiline(true)
                                                  .maxLength(MAX_PROMPT)
                                                  .placeholder(
                                                      BlockCompositions.plainText(
                                                          "a red fox in snow --ar 16:9"));
                                              return initial.isEmpty()
                                                  ? p
                                                  : p.initialValue(initial);
                                            }))))));
  }

  /** The prompt typed into a submitted form; empty if none. */
  static String value(View view) {
    Map<String, Map<String, ViewState.Value>> values =
        view.getState() == null ? null : view.getState().getValues();
    ViewState.Value v =
        values == null || values.get(PROMPT) == null ? null : values.get(PROMPT).get(PROMPT);
    return v == null || v.getValue() == null ? "" : v.getValue();
  }

  static JsonNode metadata(View view) {
    try {
      return SlackBot.JSON.readTree(
          view.getPrivateMetadata() == null ? "{}" : view.getPrivateMetadata());
    } catch (IOException e) {
      return SlackBot.JSON.createObjectNode();
    }
  }
}
