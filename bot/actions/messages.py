"""What the custom actions say, in one place. Texts the dialogue uses directly live in bot/domain.yml.

These are here rather than in the domain because `rasa data validate` counts a response that only an
action uses as unused.
"""

EMERGENCY = ("If anyone is in danger, call {emergency_number} now. This chat is not monitored for emergencies "
             "and cannot send help.")
CANNOT_ANSWER_YET = ("Sorry, I don't have an answer to that yet. City staff can help: call the city service line "
                     "at {city_service_phone}.")
REFER_TO_STAFF = ("That needs a person at the city. I can't pass messages to city staff from this chat yet, so "
                  "please call the city service line at {city_service_phone}.")
NO_TEXT = "I can only read text. Please type your question in a message."
MESSAGE_TOO_LONG = "That message is too long for me to read. Please send your question in a few sentences."
DESK_UNAVAILABLE = "Sorry, I can't look that up right now. Please try again in a few minutes."
