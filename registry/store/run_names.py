"""Run names the server invents when the client gives none: ``adjective-noun-number``."""

from __future__ import annotations

import secrets

_ADJECTIVES_TEXT = """
    able adaptable agreeable ambitious bold brave bright calm capable casual clean clever
    crisp curious dapper daring delicate eager efficient enchanting fearless gentle gifted
    glamorous grandiose handsome honorable industrious intelligent judicious kindly likeable
    loud luminous magnificent marvelous mercurial nebulous orderly peaceful polite receptive
    redolent resilient rogue rumbling salty sedate skillful smiling spiffy stately suave
    sincere tasteful thoughtful treasured unequaled upbeat valuable victorious vaunted
    welcoming whimsical wise youthful zealous
"""
_NOUNS_TEXT = """
    ant ape asp auk bass bat bear bee bird boar bug calf carp cat chimp cod colt conch cow
    crab crane croc crow cub deer doe dog dolphin donkey dove duck eel elk fawn finch fish
    flea fly foal fowl fox frog gnat gnu goat goose grouse grub gull hare hawk hen hog horse
    hound jay kit kite koi lamb lark loon lynx mare midge mink mole moose moth mouse mule
    newt owl ox panda penguin perch pig pug quail ram rat ray robin roo rook seal shad shark
    sheep shoat shrew shrike shrimp skink skunk sloth slug smelt snail snake snipe sow
    sponge squid squirrel stag steed stoat stork swan tern toad trout turtle vole wasp whale
    wolf worm wren yak zebra
"""
_ADJECTIVES = tuple(_ADJECTIVES_TEXT.split())
_NOUNS = tuple(_NOUNS_TEXT.split())


def generate_run_name() -> str:
    """A random readable name such as ``judicious-goose-471``."""
    adjective = secrets.choice(_ADJECTIVES)
    noun = secrets.choice(_NOUNS)
    return f"{adjective}-{noun}-{secrets.randbelow(1000)}"
