"""What a scene puts on screen: the line's key phrase and its hero numbers.

Numbers are found as digits ("$120,000", "7%", "30 years", "1990") and as words ("seven
percent", "one hundred dollars", "thirty years") and shown as digits, the way a viewer reads them.
"""

import re

_UNITS = {word: n for n, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {word: 10 * n for n, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_CURRENCY = {"dollar": "$", "dollars": "$", "bucks": "$", "euro": "€", "euros": "€", "pound": "£", "pounds": "£"}
_PERCENT = ("percent", "per cent", "%")
# Units a hero number keeps beside it ("30 years").
_COUNTED = frozenset("year years month months week weeks day days hour hours minute minutes times people "
                     "steps rules ways x".split())
_MAGNITUDE = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000, "bn": 1_000_000_000,
              "billion": 1_000_000_000}
_TOKEN = re.compile(r"[$€£]?\d[\d,]*(?:\.\d+)?%?|[A-Za-z][A-Za-z'’-]*|%")
_STOP = frozenset(
    "a an the and or but so if then than that this these those is are was were be been being am it its it's "
    "of to in on at by for with from as into onto over under about after before you your you'll you're we "
    "our us they them their he she his her him i me my do does did doing have has had will would can could "
    "should just only also very really there here what which who whom when where why how all any each every "
    "not no yes up out off too while because until let lets".split())
MAX_NUMBERS = 2
MAX_PHRASE_WORDS = 6
PUNCTUATION = ",;:.!?"  # what a word keeps from the line; a phrase never runs past a sentence's end
# A phrase with fewer letters of meaning than this ("put") says nothing a number does not.
MIN_PHRASE_LETTERS = 5


def hero_numbers(line: str) -> list[str]:
    """Return the line's numbers as they should appear on screen, in spoken order, at most two."""
    return _scan(line)[0][:MAX_NUMBERS]


def key_phrase(line: str) -> str:
    """Return the line's most telling run of up to six words (numbers and their units left out), or ""."""
    numbers, words = _scan(line)
    best, best_score = [], 0
    for start in range(len(words)):
        run = words[start:start + MAX_PHRASE_WORDS]
        ends = next((i + 1 for i, word in enumerate(run) if word[-1] in ".!?"), len(run))
        window = _trim(run[:ends])
        score = sum(len(w) for w in window if w.lower().strip(PUNCTUATION) not in _STOP)
        if score > best_score:
            best, best_score = window, score
    if best_score < MIN_PHRASE_LETTERS:
        return "" if numbers else line.strip()[:40]
    return " ".join(best).rstrip(PUNCTUATION)


def _scan(line: str) -> tuple[list[str], list[str]]:
    """Split the line into its shown numbers and the words left when they (with their units) are taken out.

    A word keeps the punctuation mark that follows it in the line.
    """
    found = list(_TOKEN.finditer(line))
    tokens = [match.group() for match in found]
    numbers, words, i = [], [], 0
    while i < len(tokens):
        shown, after = _number_at(tokens, i)
        if shown:
            if shown not in numbers:
                numbers.append(shown)
            i = after
        else:
            mark = line[found[i].end():found[i].end() + 1]
            words.append(tokens[i] + (mark if mark in PUNCTUATION else ""))
            i += 1
    return numbers, words


def _trim(words: list[str]) -> list[str]:
    while words and words[0].lower().strip(PUNCTUATION) in _STOP:
        words = words[1:]
    while words and words[-1].lower().strip(PUNCTUATION) in _STOP:
        words = words[:-1]
    return words


def _number_at(tokens: list[str], i: int) -> tuple[str | None, int]:
    """Read a number starting at tokens[i]; return how it shows (None if there is none) and where reading stops."""
    token = tokens[i]
    if re.match(r"[$€£]?\d", token):
        return _digits(tokens, i)
    value, j = _spoken(tokens, i)
    if value is None:
        return None, i + 1
    return _with_unit(float(value), tokens, j, currency="", bare=value >= 100)


def _digits(tokens: list[str], i: int) -> tuple[str | None, int]:
    token = tokens[i]
    currency = token[0] if token[0] in "$€£" else ""
    number = token.lstrip("$€£")
    if number.endswith("%"):
        return number, i + 1
    plain = number.replace(",", "")
    try:
        value = float(plain)
    except ValueError:
        return None, i + 1
    j = i + 1
    if j < len(tokens) and tokens[j].lower() in _MAGNITUDE:
        value *= _MAGNITUDE[tokens[j].lower()]
        j += 1
    year = not currency and value.is_integer() and 1800 <= value <= 2100 and "," not in number
    return _with_unit(value, tokens, j, currency, bare=year or bool(currency) or value >= 100, year=year)


def _spoken(tokens: list[str], i: int) -> tuple[int | None, int]:
    """Read number words ("one hundred and twenty thousand", "thirty-six"); return the value and the next index."""
    total, current, j, seen = 0, 0, i, False
    while j < len(tokens):
        low = tokens[j].lower()
        parts = low.split("-")
        if all(p in _UNITS or p in _TENS for p in parts) and low not in ("",):
            current += sum(_UNITS.get(p, 0) + _TENS.get(p, 0) for p in parts)
        elif low in _SCALES and seen:
            if _SCALES[low] == 100:
                current *= 100
            else:
                total += current * _SCALES[low]
                current = 0
        elif low == "and" and seen and j + 1 < len(tokens) and _is_number_word(tokens[j + 1]):
            pass
        else:
            break
        seen = True
        j += 1
    return (total + current, j) if seen else (None, i)


def _is_number_word(token: str) -> bool:
    low = token.lower()
    return all(p in _UNITS or p in _TENS for p in low.split("-")) or low in _SCALES


def _with_unit(value: float, tokens: list[str], j: int, currency: str, bare: bool,
               year: bool = False) -> tuple[str | None, int]:
    """Attach what follows a number (percent, a currency word, a counted unit) and format it."""
    following = tokens[j].lower() if j < len(tokens) else ""
    text = str(int(value)) if year else (f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}".rstrip("0"))
    if following in _PERCENT or (following == "per" and j + 1 < len(tokens) and tokens[j + 1].lower() == "cent"):
        return f"{text}%", j + (2 if following == "per" else 1)
    if following in _CURRENCY:
        return f"{_CURRENCY[following]}{text}", j + 1
    if currency:
        return f"{currency}{text}", j
    if following in _COUNTED:
        return f"{text} {tokens[j]}", j + 1
    return (text if bare else None), j
