"""What the custom actions say, in one place. Texts the dialogue uses directly live in bot/domain.yml.

These are here rather than in the domain because `rasa data validate` counts a response that only an
action uses as unused.
"""

# channel-neutral: the same words go out on the web chat, Telegram and X direct messages
EMERGENCY = ("If anyone is in danger, call {emergency_number} now. This account is not monitored for emergencies "
             "and cannot send help.")
EMERGENCY_RECORDED = "I have also alerted the city's duty officer (case {number})."
# true on every channel: on X a case is answered by direct message even when the citizen posted in public
CASE_OPENED = ("I've passed this to {department} as case {number}. You can expect an answer {expected}, "
               "through the same service you used to reach us.")
# the desk's reasons for a message added to an open case (handoff/intake.py): the reply to a case that waits for the
# citizen (FOLLOW_UP_REASON), and new information on the conversation's open case (ADDED_REASON)
FOLLOW_UP_REASON = "the citizen's reply to a case waiting for them"
ADDED_REASON = "new information on the conversation's open case"
FOLLOW_UP_ADDED = ("Thank you, I've added this to case {number}. {department} will answer {expected}, through the "
                   "same service you used to reach us.")
POLICY_RECEIVED = ("Thank you for the suggestion. I've passed it to {department} as case {number}; they review "
                   "suggestions and will answer {expected}, through the same service you used to reach us.")
OUT_OF_SCOPE = ("Sorry, that's not something the city handles. I can help with city services like trash, "
                "parking, buses, permits, parks, or pass a problem on to city staff.")
NO_TEXT = "I can only read text. Please type your question in a message."
MESSAGE_TOO_LONG = "That message is too long for me to read. Please send your question in a few sentences."
DESK_UNAVAILABLE = ("Sorry, I can't look that up right now. Please try again in a few minutes, or call the city "
                    "service line at {city_service_phone}.")
NO_CASES = ("I can't find a case from this conversation. If you have a case number (like CD-2026-000123), "
            "send it to me.")
NO_SUCH_CASE = "I can't find that case number. Please check it (it looks like CD-2026-000123)."
CASE_STATUS = "Case {number} is with {department}: {state}."
STATE_TEXT = {
    "new": "received, waiting for an officer; expect an answer {expected}",
    "assigned": "an officer is working on it; expect an answer {expected}",
    "waiting_citizen": "the officer has asked you for more details (see the message above)",
    "in_review": "an officer has drafted an answer, which is being checked before it is sent; expect an answer "
                 "{expected}",
    "answered": "answered",
    "closed": "closed",
}
LATEST_ANSWER = "Latest answer: {notes}"
CLARIFY = "Did you mean:"
NONE_OF_THESE = "None of these"
NO_PENDING_CHOICE = "Sorry, I've lost track of that question. Could you ask it again?"
FEEDBACK_QUESTION = "Was this helpful?"
FEEDBACK_YES = "Yes"
FEEDBACK_NO = "No"
CONFIRM_QUESTION = "Did this answer your question?"
CONFIRM_NO = "No, ask a person"
FEEDBACK_THANKS = "Thanks for letting us know!"
FEEDBACK_SORRY = ("Sorry it didn't help. I've passed that on to the people who write these answers. If you'd like "
                  "a person to look at your question, just say so and I'll hand it to city staff.")
# Courtesy alone (action_smalltalk), by intent; one of the variants at random
SMALLTALK = {
    "greet": ("Hi! I'm Alderbrook's city assistant. I can answer questions about city services and pass anything "
              "else on to city staff. How can I help?",
              "Hello from the City of Alderbrook! Ask me about city services, or tell me what needs fixing and I'll "
              "pass it to city staff."),
    "goodbye": ("Goodbye, and thanks for contacting the City of Alderbrook!",
                "Bye for now. We're here whenever you need us."),
    "thank": ("You're welcome! Anything else I can help with?",
              "Happy to help. Just message us if anything else comes up."),
}
