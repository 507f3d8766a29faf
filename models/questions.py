"""What the adapters read from a question: the phrase naming what to find, for families
whose grounding task takes a phrase rather than a question (Florence-2, Qwen-VL)."""
from __future__ import annotations

import re

# Words that are not the object of a question: question words, auxiliaries, determiners,
# pronouns, quantifiers, prepositions, the request verbs and the image itself.
STOP_WORDS = frozenset("""
    a an the this that these those there here it its they them their me my we our you your
    what which who whom whose where when why how many much all any some each every no
    is are was were be been being do does did can could would should will shall may might
    have has had of in on at to from by with near into onto over under above below between
    around inside outside along across for about within beside behind next
    find locate show count detect mark highlight point give tell list identify describe see
    image picture photo scene tile area region visible please
""".split())


def subject_phrase(question: str) -> str:
    """The first run of content words of `question` ("" when it names nothing)."""
    words = re.findall(r"[\w-]+", question.lower())
    phrase: list[str] = []
    for word in words:
        if word in STOP_WORDS:
            if phrase:
                break
        else:
            phrase.append(word)
    while phrase and phrase[-1] in ("and", "or"):
        phrase.pop()
    return " ".join(phrase)
