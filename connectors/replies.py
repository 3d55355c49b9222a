"""What the pipeline itself answers, without asking the assistant."""

from __future__ import annotations

CAN_HANDLE = ("I can answer questions about city services and pass problems on to the right department; "
              "please write your question or report as a text message.")
UNSUPPORTED = {
    "photo": "Thank you for the photo. I can't look at pictures. " + CAN_HANDLE,
    "sticker": "Thanks for the sticker! " + CAN_HANDLE,
    "voice": "I can't listen to voice messages. " + CAN_HANDLE,
    "other": "I can't read this kind of message. " + CAN_HANDLE,
}
LOCATION_KEPT = ("Thank you, I have kept this location ({lat:.5f}, {long:.5f}) with your conversation, and on "
                 "your open case if you have one. Now tell me in a text message what is wrong there.")
EMPTY = "Your message was empty. " + CAN_HANDLE
TOO_LONG = ("That message is too long for me to read ({length} characters; at most {limit}). "
            "Please send your question in a few sentences.")
GAVE_UP = ("Sorry, I could not process your message. Please write again later, or call the city's service "
           "line {phone}.")
RECEIVED = ("Thank you, your message is received. The assistant cannot answer right now; its answer will "
            "follow here shortly.")
