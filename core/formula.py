"""A loss landscape typed as a formula f(x, y): parsed safely, differentiated exactly, run as a small program.

The pipeline, every stage bounded so that no formula can make a worker hang or grow without bound:

1. **Parse** (``parse``): a whitelisting recursive-descent parser of this module's own grammar, never
   Python's ``eval`` nor sympy's ``sympify``/``parse_expr`` (both evaluate strings)::

       expr    := term (("+" | "-") term)*
       term    := unary (("*" | "/" | implicit) unary)*
       unary   := ("-" | "+") unary | power
       power   := postfix (("^" | "**") unary)?            right-associative: 2^3^2 = 2^9; -x^2 = -(x^2)
       postfix := atom superscript?                         x², x¹⁰, x⁻¹: one signed integer
       atom    := number | "x" | "y" | "pi" | "e" | name "(" expr ("," expr)? ")"
                | "(" expr ")" | "[" expr "]" | "√" atom

   Functions: sin cos tan exp log sqrt abs tanh sinh cosh atan (one argument), atan2 min max (two).
   The notation of a slide is read too, so that every built-in's formula text pastes as the page shows
   it (all but the bowl's and the plateau's, which name their parameters): ``−`` and ``–`` are ``-``,
   ``·`` ``⋅`` ``∙`` ``×`` ``∗`` are ``*``, ``÷`` is ``/`` (one character for one, also inside a
   number: ``2e−3``), ``π`` is ``pi``, ``√`` is sqrt, square brackets group, and superscript digits
   with an optional leading ``⁻`` are an integer exponent of the atom before them (``xy²`` = x·y²).

   A product is implicit (the ``implicit`` above, as tight as ``*``):
     - after a number, spaces allowed: ``2x``, ``2 (x + 1)``, ``2pi``, ``-2x``;
     - between two factors that touch, the second a name, ``(``, ``[`` or ``√``: ``2πx``, ``x²y``,
       ``x(1 − x)``, ``(x + 1)(x − 1)``, ``[…]·[…]``. Across a space only after a number: ``x y`` is
       refused as a missing operator (a URL's unescaped ``+`` arrives as a space);
     - inside a run of letters that is no whitelisted name and holds only x and y: ``xy``, ``yx``,
       ``xyy`` are x·y, y·x and x·y·y (the same syntax tree, so the same canonical form and cache
       entry, as ``x*y``). No other run is split: ``sinx``, ``pix``, ``ex``, ``x2`` are unknown names,
       refused with the spelling they may have meant.
   It is refused where a reader could take it two ways: before a number (``(x + 1)2``, ``x²3``),
   after an exponent written with ``^`` (``e^2x``: e²·x or e^(2x)), after a division (``1/2x``) and
   after a root without parentheses (``√2x``, and ``√x²`` for the power). Lookalike characters
   (Cyrillic ``х``, fullwidth ``ｘ``, mathematical italic ``𝑥``) are refused, the message naming them.

   Limits: ``MAX_LENGTH`` characters, ``MAX_DEPTH`` nested
   parentheses and calls, ``MAX_AST_NODES`` nodes, number literals of at most ``MAX_NUMBER_DIGITS``
   characters and magnitude ``MAX_LITERAL``, constant exponents of magnitude ``MAX_EXPONENT`` (a
   superscript of more than three digits is refused before it is read), and
   constant sub-expressions of magnitude ``MAX_CONSTANT`` (checked in floats before sympy sees them,
   so sympy never builds a huge exact number). Every error is a ``FormulaError`` with the 1-based
   position of the offending character: ``unknown name 'os' at 1``.
2. **Differentiate**: the AST becomes a sympy expression by constructor calls (real symbols x, y,
   exact rationals for the literals); ∇f and ∇²f by ``sympy.diff``, with node counts checked before
   and after each stage (``MAX_NODES``). No ``simplify``: it is unbounded in time, and measured on
   the examples it rarely shortened the program (sympy's automatic canonical forms already collect
   like terms). No expansion either: sympy runs with its distribution of numbers over sums off
   (``factored``), so a derivative keeps the chain rule's factored form (200·(y − x²), not
   200·y − 200·x², which loses y − x²'s digits near y = x²). The kinks of abs/min/max have no second
   derivative: their Dirac deltas count as 0, as the l1 penalty's kink does in core.landscapes.
3. **Lower** (``lower``): the six expressions f, ∂f/∂x, ∂f/∂y, ∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y² become one
   flat register program of float64 operations, the instructions f and ∇f need placed first so that
   a race which needs no Hessian stops there. f and ∇f are evaluated as written, identical
   sub-expressions computed once; the Hessian also shares regrouped ones (``sympy.cse``). Constants
   are sympy's exact rationals rounded once; sums of three or more terms are compensated (exact
   TwoSum errors added at the end), so a sum is within about an ulp of its terms' exact sum even
   where they cancel. With these, typed Rosenbrock gives the built-in's gradient bit for bit, and
   typed Beale's gradient is within a few ulps of its terms' magnitude of the built-in's
   (tests/core/test_formula_races.py; ``bench/formula_agreement.py`` measures both).
4. **Run**: ``run_program(code, consts, x, y, out)`` interprets the program (numba, compiled once for
   every formula); ``evaluate_grid`` runs the same interpreter over many points. The same operations
   in the same order at every call, so a point gives the same bits on floats and on arrays.

``compile_formula(text)`` does 1–3, cached by the formula's canonical form (``LRU_SIZE`` entries).
``critical_points`` finds the minima and saddles of a program on a domain (grid, then Newton with
the exact Hessian).
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import sympy
from sympy.core.parameters import global_parameters

from core.jit import njit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_LENGTH = 1000  # characters of a formula
MAX_DEPTH = 40  # nested parentheses and function calls
MAX_AST_NODES = 400  # numbers, names, operators and calls of a parsed formula
MAX_NUMBER_DIGITS = 24  # characters of one number literal
MAX_LITERAL = 1e12  # magnitude of a number literal
MAX_EXPONENT = 100  # magnitude of a constant exponent
MAX_CONSTANT = 1e100  # magnitude of any constant sub-expression
MAX_SECOND_DERIVATIVE = 2_500  # estimated nodes of a second derivative (derivative_sizes), checked before sympy
MAX_NODES = 20_000  # sympy nodes of f and its gradient, and again of the Hessian
MAX_INSTRUCTIONS = 20_000  # instructions of the lowered program
LRU_SIZE = 256  # compiled formulas kept, by canonical form

FUNCTIONS_1 = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh", "atan")
FUNCTIONS_2 = ("atan2", "min", "max")
CONSTANTS = ("pi", "e")
VARIABLES = ("x", "y")
OUTPUTS = ("f", "df/dx", "df/dy", "d2f/dx2", "d2f/dxdy", "d2f/dy2")


class FormulaError(ValueError):
    """A formula that is refused: the message names the problem and, where there is one, the position.

    ``position`` is 1-based (the first character is 1), or None for a problem of the whole formula;
    ``hint`` (after the position in the message) says what would be accepted.
    """

    def __init__(self, problem: str, position: int | None = None, hint: str = ""):
        self.problem = problem
        self.position = position
        self.hint = hint
        where = "" if position is None else f" at {position}"
        super().__init__(f"{problem}{where}{hint}")


# --- 1. parse ---------------------------------------------------------------------------------------------

# One character for one character (so positions do not move), before tokenizing: the operators of a slide.
_SAME_WIDTH = str.maketrans({"−": "-", "–": "-", "·": "*", "⋅": "*", "∙": "*", "×": "*", "∗": "*", "÷": "/"})
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_TOKEN = re.compile(
    r"""
    (?P<space>[\ \t\r\n\u00a0]+)
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
    | (?P<sup>[⁻⁺⁰¹²³⁴⁵⁶⁷⁸⁹]+)
    | (?P<op>\*\*|[-+*/^(),\[\]√π])
    """,
    re.VERBOSE | re.ASCII,
)


class Token(NamedTuple):
    kind: str  # "number", "name", "sup" (superscript digits), "op", "bad", "end"
    text: str
    position: int  # 1-based
    spaced: bool = True  # white space (or the formula's start) before it: false when it touches the previous token


def tokenize(text: str) -> list[Token]:
    """The formula's tokens; a token ``bad`` stands for the first character that starts none.

    A run of letters that is no whitelisted name and holds only x and y (``xy``, ``xyy``, ``yx``)
    is the product of its letters: one token per letter, touching. Any other unknown run (``sinx``,
    ``pix``, ``ex``) stays one name, which the parser refuses: a function or a constant is never split.
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula longer than {MAX_LENGTH} characters ({len(text)})")
    source = text.translate(_SAME_WIDTH)
    tokens = []
    index = 0
    spaced = True
    while index < len(source):
        match = _TOKEN.match(source, index)
        if match is None:  # the parser reports it when it gets there, so errors come in reading order
            tokens.append(Token("bad", text[index], index + 1, spaced))
            break
        kind = match.lastgroup
        assert kind is not None
        value = match.group()
        if kind == "space":
            spaced = True
            index = match.end()
            continue
        if kind == "op" and value == "π":
            kind, value = "name", "pi"
        if kind == "name" and _is_product_of_variables(value):
            tokens += [Token("name", letter, index + 1 + k, spaced and k == 0) for k, letter in enumerate(value)]
        else:
            tokens.append(Token(kind, value, index + 1, spaced))
        spaced = False
        index = match.end()
    tokens.append(Token("end", "", len(text) + 1, spaced))
    return tokens


def _is_product_of_variables(name: str) -> bool:
    return len(name) > 1 and name not in _WORDS and set(name) <= set(VARIABLES)


# AST nodes: tuples, the node's kind first and its 1-based position last.
#   ("num", Fraction, text, pos)  ("var", "x", pos)  ("const", "pi", pos)  ("neg", child, pos)
#   ("bin", op, left, right, pos)  with op in + - * / ^      ("call", name, (args, ...), pos)
Node = tuple[Any, ...]

_CLOSING = {"(": ")", "[": "]"}


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0
        self.depth = 0  # nested parentheses and calls
        self.recursion = 0  # every nested rule: bounds chains such as ------x and x^x^x^x
        self.nodes = 0
        # how the factor just parsed ended: "plain", "caret" (an exponent after ^ or **: x^2 y could
        # be x^(2y)) or "root" (√ without parentheses: √2x could be √(2x))
        self.end = "plain"

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    @property
    def previous(self) -> Token:
        return self.tokens[self.index - 1]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def node(self, *parts: Any) -> Node:
        self.nodes += 1
        if self.nodes > MAX_AST_NODES:
            raise FormulaError(f"formula has more than {MAX_AST_NODES} terms and operations", parts[-1])
        return parts

    def enter(self, position: int) -> None:
        self.recursion += 1
        if self.recursion > 4 * MAX_DEPTH:
            raise FormulaError(f"operators chained deeper than {4 * MAX_DEPTH}", position)

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise FormulaError("empty formula: type an expression in x and y, e.g. x^2 + 10*y^2")
        tree = self.expr()
        if self.token.kind != "end":
            raise self.unexpected("an operator")
        return tree

    def unexpected(self, wanted: str) -> FormulaError:
        token = self.token
        if token.kind == "bad":
            return FormulaError(
                f"unexpected character {_shown(token.text)}", token.position, _character_hint(token.text)
            )
        if token.kind == "end":
            return FormulaError(f"formula ends early: expected {wanted}", token.position)
        hint = ""
        if token.kind == "sup":
            hint = "; one exponent per factor: write (x²)³ or x⁶"
        elif (wanted == "an operator" or wanted in ("')'", "']'")) and (
            token.kind in ("name", "number") or token.text in ("(", "[", "√")
        ):
            hint = "; is a '*' or a '+' missing? (in a URL a '+' is a space: write it %2B)"
        return FormulaError(f"expected {wanted}, got {token.text!r}", token.position, hint)

    def expr(self) -> Node:
        self.enter(self.token.position)
        left = self.term()
        while self.token.text in ("+", "-"):
            op = self.take()
            left = self.node("bin", op.text, left, self.term(), op.position)
        self.recursion -= 1
        return left

    def term(self) -> Node:
        left = self.unary()
        divided = False  # the last operator of this term was '/': 1/2x could be (1/2)·x or 1/(2x)
        while True:
            token = self.token
            if token.text in ("*", "/"):
                self.take()
                left = self.node("bin", token.text, left, self.unary(), token.position)
                divided = token.text == "/"
            elif self.implicit_product(token, divided):  # 2x, xy, 2πx, x²y, x(1 − x), (x + 1)(x − 1)
                left = self.node("bin", "*", left, self.unary(), token.position)
            else:
                return left

    def implicit_product(self, token: Token, divided: bool) -> bool:
        """Whether ``token`` starts a factor multiplying the one before it; raises where that is ambiguous.

        A product is implicit after a number (``2x``, ``2 (x + 1)``, spaces allowed), and between two
        factors that touch (``xy``, ``2πx``, ``x²y``, ``x(1 − x)``, ``)(``, ``](``). Never before a
        number (``(x + 1)2``), after an exponent written with ``^`` (``e^2x``), after a division
        (``1/2x``) or after a root without parentheses (``√2x``): those are refused with a hint.
        """
        after = self.previous
        if token.kind == "number" and not token.spaced and after.kind != "number":
            raise FormulaError(
                f"a number right after {after.text!r} is not a product",
                token.position,
                "; write * for a product or ^ (or a superscript: ², ³) for a power",
            )
        if not (token.kind == "name" or token.text in ("(", "[", "√")):
            return False
        if token.spaced and after.kind != "number":
            return False  # 'x y' is refused as a missing operator (in a URL, 'x+y' arrives as 'x y')
        if self.end == "caret":
            raise FormulaError(
                "a product right after an exponent written with '^' is ambiguous",
                token.position,
                "; write (x^2)*y or x^(2y), or a superscript: x²y",
            )
        if divided:
            raise FormulaError(
                "a product right after a division is ambiguous", token.position, "; write (1/2)*x or 1/(2x)"
            )
        if self.end == "root":
            raise FormulaError(
                "a product right after a root without parentheses is ambiguous",
                token.position,
                "; write √(2x) or √2*x",
            )
        return True

    def unary(self) -> Node:
        token = self.token
        if token.text in ("-", "+"):
            self.take()
            self.enter(token.position)
            operand = self.unary()
            self.recursion -= 1
            return operand if token.text == "+" else self.node("neg", operand, token.position)
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        token = self.token
        if token.text in ("^", "**"):
            self.take()
            self.enter(token.position)
            exponent = self.unary()
            self.recursion -= 1
            self.end = "caret"
            return self.node("bin", "^", base, exponent, token.position)
        return base

    def postfix(self) -> Node:
        base, bare_root = self.atom()
        token = self.token
        if token.kind == "sup":
            if bare_root:
                raise FormulaError(
                    "a power right after a root without parentheses is ambiguous",
                    token.position,
                    "; write √(x²) or (√x)²",
                )
            self.take()
            exponent = self.node("num", _superscript(token), token.text, token.position)
            base = self.node("bin", "^", base, exponent, token.position)
            bare_root = False
        self.end = "root" if bare_root else "plain"
        return base

    def atom(self) -> tuple[Node, bool]:
        """A number, name, call, bracketed expression or root; and whether it is a root without parentheses."""
        token = self.token
        if token.kind == "number":
            self.take()
            return self.node("num", _literal(token), token.text, token.position), False
        if token.text in _CLOSING:
            self.take()
            self.open(token.position)
            inner = self.expr()
            self.close(token)
            return inner, False
        if token.text == "√":
            self.take()
            following = self.token
            if not (following.kind in ("number", "name") or following.text in ("(", "[", "√")):
                raise self.unexpected("a number, x, y, a function or '(' after √")
            self.enter(token.position)
            radicand, _ = self.atom()
            self.recursion -= 1
            return self.node("call", "sqrt", (radicand,), token.position), following.text not in _CLOSING
        if token.kind == "name":
            self.take()
            name = token.text
            if name in VARIABLES:
                return self.node("var", name, token.position), False
            if name in CONSTANTS:
                return self.node("const", name, token.position), False
            if name in FUNCTIONS_1 or name in FUNCTIONS_2:
                return self.call(token), False
            raise FormulaError(f"unknown name {name!r}", token.position, _suggest(name))
        raise self.unexpected("a number, x, y, a function or '('")

    def call(self, name: Token) -> Node:
        arity = 1 if name.text in FUNCTIONS_1 else 2
        if self.token.text != "(":
            hint = (
                f"; write {name.text}(x){self.token.text} for a power of {name.text}(x)"
                if self.token.kind == "sup"
                else ""
            )
            raise FormulaError(f"expected '(' after {name.text}", self.token.position, hint)
        opening = self.take()
        self.open(opening.position)
        args = [self.expr()]
        while self.token.text == ",":
            comma = self.take()
            if len(args) == arity:
                raise FormulaError(f"{name.text} takes {_arguments(arity)}", comma.position)
            args.append(self.expr())
        if len(args) != arity:
            raise FormulaError(f"{name.text} takes {_arguments(arity)}, got {len(args)}", name.position)
        self.close(opening)
        return self.node("call", name.text, tuple(args), name.position)

    def open(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"nesting deeper than {MAX_DEPTH}", position)

    def close(self, opening: Token) -> None:
        closing = _CLOSING[opening.text]
        if self.token.text != closing:
            if self.token.kind == "end":
                raise FormulaError(f"unclosed {opening.text!r}", opening.position)
            raise self.unexpected(repr(closing))
        self.take()
        self.depth -= 1


def _arguments(arity: int) -> str:
    return "one argument" if arity == 1 else "two arguments"


_WORDS = (*VARIABLES, *CONSTANTS, *FUNCTIONS_1, *FUNCTIONS_2)
_ALLOWED_HINT = (
    "; formulas take x, y, numbers, + - * / ^ ( ) [ ], pi, e and "
    + ", ".join(FUNCTIONS_1 + FUNCTIONS_2)
    + "; as on a slide: − · × ÷ π √ and superscripts x² x⁻¹"
)
_LOOKALIKES = {"х": "x", "Х": "X", "у": "y", "У": "Y", "е": "e", "а": "a", "о": "o", "с": "c", "р": "p", "і": "i"}


def _shown(char: str) -> str:
    return repr(char) if char.isprintable() else f"U+{ord(char):04X}"


def _character_hint(char: str) -> str:
    """A hint for a character that starts no token: a lookalike of an ASCII one says which."""
    plain = _LOOKALIKES.get(char) or unicodedata.normalize("NFKC", char)
    name = unicodedata.name(char, "")
    if plain != char and len(plain) == 1 and plain.isascii() and plain.isprintable() and plain != " ":
        return f"; it looks like {plain!r} but is {name or 'another character'} (U+{ord(char):04X}): type {plain!r}"
    if char.isalpha():
        return f"; the only names are x, y, pi (π), e and the functions: write a number for {char}"
    return _ALLOWED_HINT


_LONGEST_FIRST = sorted(_WORDS, key=len, reverse=True)


def _split_words(name: str) -> list[str] | None:
    """``name`` as a run of whitelisted names (the longest that fits first), or None."""
    words: list[str] = []
    index = 0
    while index < len(name):
        word = next((w for w in _LONGEST_FIRST if name.startswith(w, index)), None)
        if word is None:
            return None
        words.append(word)
        index += len(word)
    return words


def _suggest(name: str) -> str:
    """A hint for a name the grammar does not know."""
    powered = re.fullmatch(r"([xy])(\d+)", name)
    if powered:
        letter, digits = powered.groups()
        superscript = digits.translate(_TO_SUPERSCRIPT)
        return f"; write {letter}^{digits} or {letter}{superscript} for a power, {letter}*{digits} for a product"
    words = _split_words(name) if len(name) <= 40 else None
    if words and len(words) > 1:
        if len(words) == 2 and words[0] in FUNCTIONS_1 and words[1] in _WORDS[:4]:
            return f"; did you mean {words[0]}({words[1]})?"
        shown = [f"{w}(…)" if w in FUNCTIONS_1 or w in FUNCTIONS_2 else w for w in words]
        return f"; write products of names with '*', e.g. {'*'.join(shown)}"
    if name in ("ln",):
        return "; did you mean log?"
    if name in ("arctan", "atn"):
        return "; did you mean atan?"
    if name in ("E", "PI", "Pi"):
        return f"; did you mean {name.lower()}?"
    if len(name) == 1:
        return f"; the only variables are x and y: write a number for {name}"
    return _ALLOWED_HINT


_TO_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _superscript(token: Token) -> Fraction:
    """A superscript exponent (``²``, ``¹⁰``, ``⁻¹``) as an integer, refused when malformed or too large."""
    text = token.text
    sign, digits = (-1, text[1:]) if text[0] == "⁻" else (1, text[1:]) if text[0] == "⁺" else (1, text)
    if not digits:
        raise FormulaError(f"superscript {text[0]} without digits", token.position)
    if "⁻" in digits or "⁺" in digits:
        raise FormulaError("a superscript sign goes before all the digits", token.position)
    if len(digits) > 3:
        shown = digits if len(digits) <= 8 else digits[:8] + "…"
        raise FormulaError(f"exponent {shown} too large (at most {MAX_EXPONENT})", token.position)
    return Fraction(sign * int(digits.translate(_SUPERSCRIPT)))


def _literal(token: Token) -> Fraction:
    """A number literal as an exact fraction, refused when too long or too large."""
    text = token.text
    if len(text) > MAX_NUMBER_DIGITS:
        raise FormulaError(f"number longer than {MAX_NUMBER_DIGITS} characters", token.position)
    exponent = text.lower().partition("e")[2]
    if exponent and abs(int(exponent)) > 300:
        raise FormulaError(f"number {text} out of range (at most {MAX_LITERAL:g})", token.position)
    value = Fraction(text)
    if abs(value) > MAX_LITERAL:
        raise FormulaError(f"number {text} too large (at most {MAX_LITERAL:g})", token.position)
    return value


def parse(text: str) -> Node:
    """The formula's syntax tree; raises ``FormulaError`` naming the position of the first problem."""
    tree = _Parser(tokenize(text)).parse()
    _check_constants(tree)
    return tree


_FLOAT_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "abs": abs,
    "tanh": math.tanh,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "atan": math.atan,
    "atan2": math.atan2,
    "min": min,
    "max": max,
}


def _check_constants(node: Node) -> float | None:
    """The float value of ``node`` if it is constant (None if it depends on x or y), checking that
    every constant part is a finite real number of magnitude ≤ MAX_CONSTANT and every constant
    exponent of magnitude ≤ MAX_EXPONENT. Raises ``FormulaError`` at the offending operation."""
    kind, position = node[0], node[-1]
    if kind == "num":
        return float(node[1])
    if kind == "var":
        return None
    if kind == "const":
        return math.pi if node[1] == "pi" else math.e
    if kind == "neg":
        value = _check_constants(node[1])
        return None if value is None else -value
    if kind == "bin":
        op, left, right = node[1], _check_constants(node[2]), _check_constants(node[3])
        if op == "^" and right is not None and abs(right) > MAX_EXPONENT:
            raise FormulaError(f"exponent {right:.3g} too large (at most {MAX_EXPONENT})", position)
        if left is None or right is None:
            return None
        try:
            if op == "+":
                value = left + right
            elif op == "-":
                value = left - right
            elif op == "*":
                value = left * right
            elif op == "/":
                value = left / right
            else:
                value = math.pow(left, right)
        except ZeroDivisionError:
            raise FormulaError("division by zero", position) from None
        except (OverflowError, ValueError):
            raise FormulaError(f"{left:.6g}{op}{right:.6g} is not a finite real number", position) from None
        return _bounded(value, node)
    args = [_check_constants(arg) for arg in node[2]]
    if any(arg is None for arg in args):
        return None
    try:
        value = _FLOAT_FUNCTIONS[node[1]](*args)
    except (OverflowError, ValueError, ZeroDivisionError):
        shown = ", ".join(f"{arg:.6g}" for arg in args if arg is not None)
        raise FormulaError(f"{node[1]}({shown}) is not a finite real number", position) from None
    return _bounded(value, node)


def _bounded(value: float, node: Node) -> float:
    if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
        raise FormulaError(f"constant {value:.3g} too large (at most {MAX_CONSTANT:g})", node[-1])
    return value


def derivative_sizes(node: Node) -> tuple[int, int, int]:
    """Upper estimates of the sizes (nodes) of a tree, its first and its second derivative by one variable.

    Used to refuse before sympy differentiates: a product of n factors has a first derivative of
    about n² nodes and a second of about n³, which sympy would spend seconds building.
    """
    kind = node[0]
    if kind in ("num", "var", "const"):
        return 1, 1, 1
    if kind == "neg":
        s, d, d2 = derivative_sizes(node[1])
        return s + 1, d + 1, d2 + 1
    if kind == "bin":
        op = node[1]
        sa, da, d2a = derivative_sizes(node[2])
        sb, db, d2b = derivative_sizes(node[3])
        if op in ("+", "-"):
            return sa + sb + 1, da + db + 1, d2a + d2b + 1
        if op == "*":
            return sa + sb + 1, sa + sb + da + db + 3, sa + sb + 2 * (da + db) + d2a + d2b + 6
        if op == "/":
            return sa + sb + 2, sa + 2 * sb + da + db + 6, 2 * (sa + 2 * sb) + 3 * (da + db) + d2a + d2b + 12
        if node[3][0] == "num":  # a^k
            return sa + 2, sa + da + 4, sa + 2 * da + d2a + 8
        return sa + sb + 1, 2 * (sa + sb) + da + db + 6, 3 * (sa + sb + da + db) + d2a + d2b + 12
    sizes = [derivative_sizes(arg) for arg in node[2]]
    s = sum(size[0] for size in sizes) + 1
    d = sum(size[0] + size[1] for size in sizes) + 4
    d2 = sum(2 * size[0] + 2 * size[1] + size[2] for size in sizes) + 10
    return s, d, d2


def canonical(node: Node) -> str:
    """The formula written back without spaces, fully parenthesised: the cache key (``2 x`` and ``2*x`` agree)."""
    kind = node[0]
    if kind == "num":
        value = node[1]
        return str(value.numerator) if value.denominator == 1 else f"({value.numerator}/{value.denominator})"
    if kind in ("var", "const"):
        return node[1]
    if kind == "neg":
        return f"(-{canonical(node[1])})"
    if kind == "bin":
        return f"({canonical(node[2])}{node[1]}{canonical(node[3])})"
    return f"{node[1]}({','.join(canonical(arg) for arg in node[2])})"


_TORCH_FUNCTIONS = {name: f"torch.{name}" for name in (*FUNCTIONS_1, "atan2")}
_TORCH_FUNCTIONS.update({"min": "torch.minimum", "max": "torch.maximum"})


def torch_code(text: str) -> str:
    """``text`` as a PyTorch expression in the tensors ``x`` and ``y`` (for the exported script, whose
    gradient comes from autograd): fully parenthesised, constant parts folded to float literals (as
    tensors where a two-argument function needs one); raises ``FormulaError`` as ``parse`` does."""
    return _torch(parse(text))


def _torch(node: Node) -> str:
    value = _check_constants(node)
    if value is not None:
        return f"({value!r})"
    kind = node[0]
    if kind == "var":
        return node[1]
    if kind == "neg":
        return f"(-{_torch(node[1])})"
    if kind == "bin":
        op = "**" if node[1] == "^" else node[1]
        return f"({_torch(node[2])} {op} {_torch(node[3])})"
    args = [_torch(arg) for arg in node[2]]
    if len(args) == 2:  # torch.atan2, minimum and maximum take tensors only
        constant = [_check_constants(arg) is not None for arg in node[2]]
        args = [f"torch.tensor{arg}" if fixed else arg for arg, fixed in zip(args, constant, strict=True)]
    return f"{_TORCH_FUNCTIONS[node[1]]}({', '.join(args)})"


# --- 2. differentiate ------------------------------------------------------------------------------------

X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)
_SYMPY_FUNCTIONS: dict[str, Callable[..., sympy.Expr]] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "tanh": sympy.tanh,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "atan": sympy.atan,
    "atan2": lambda a, b: sympy.atan2(a, b),
    "min": lambda a, b: sympy.Min(a, b),
    "max": lambda a, b: sympy.Max(a, b),
}


def to_sympy(node: Node) -> sympy.Expr:
    """The sympy expression of a syntax tree, built by constructor calls (no string is ever evaluated)."""
    kind = node[0]
    if kind == "num":
        return sympy.Rational(node[1].numerator, node[1].denominator)
    if kind == "var":
        return X if node[1] == "x" else Y
    if kind == "const":
        return sympy.pi if node[1] == "pi" else sympy.E
    if kind == "neg":
        return sympy.Mul(sympy.S.NegativeOne, to_sympy(node[1]))
    if kind == "bin":
        op, left, right = node[1], to_sympy(node[2]), to_sympy(node[3])
        if op == "+":
            return sympy.Add(left, right)
        if op == "-":
            return sympy.Add(left, sympy.Mul(sympy.S.NegativeOne, right))
        if op == "*":
            return sympy.Mul(left, right)
        if op == "/":
            return sympy.Mul(left, sympy.Pow(right, sympy.S.NegativeOne))
        return sympy.Pow(left, right)
    return _SYMPY_FUNCTIONS[node[1]](*(to_sympy(arg) for arg in node[2]))


@contextmanager
def factored() -> Iterator[None]:
    """Sympy with its distribution of a number over a sum (2·(x − 1) → 2·x − 2) turned off, in this thread.

    Derivatives then keep the chain rule's factored form: Rosenbrock's ∂f/∂y stays 200·(y − x²)
    instead of 200·y − 200·x², which, evaluated in floats near the valley's floor y = x², loses
    the digits of y − x² to the rounding of 200·y and 200·x² (measured: up to 10¹⁵ ulps apart from
    the hand-written gradient before, bit-identical after). Every sympy operation of this module
    runs inside it. The flag is sympy's own, per thread, and left off once set: sympy clears its
    cache (shared by all threads) whenever the flag changes, so turning it back on after each
    formula would make every compilation start cold (2 to 4 × slower, measured). This module is
    the process's only sympy user, so every expression in that cache was built with distribution off.
    """
    if global_parameters.distribute:
        global_parameters.distribute = False
    yield


def _count_nodes(exprs: list[sympy.Expr], stage: str) -> int:
    total = 0
    for expr in exprs:
        for _ in sympy.preorder_traversal(expr):
            total += 1
            if total > MAX_NODES:
                raise FormulaError(f"{stage} too large (more than {MAX_NODES} terms); try a shorter formula")
    return total


def _no_delta(expr: sympy.Expr) -> sympy.Expr:
    """The expression with Dirac deltas (second derivatives at a kink of abs, min or max) as 0."""
    if expr.has(sympy.DiracDelta):
        return expr.replace(lambda e: isinstance(e, sympy.DiracDelta), lambda e: sympy.S.Zero)
    return expr


def derivatives(f: sympy.Expr) -> list[sympy.Expr]:
    """[f, ∂f/∂x, ∂f/∂y, ∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²], node counts bounded at each stage."""
    _count_nodes([f], "formula")
    gx, gy = sympy.diff(f, X), sympy.diff(f, Y)
    _count_nodes([f, gx, gy], "gradient")
    hessian = [_no_delta(sympy.diff(gx, X)), _no_delta(sympy.diff(gx, Y)), _no_delta(sympy.diff(gy, Y))]
    _count_nodes(hessian, "Hessian")
    return [f, gx, gy, *hessian]


# --- 3. lower: one register program ---------------------------------------------------------------------
# Registers: 0..5 the outputs (f, fx, fy, fxx, fxy, fyy), 6 x, 7 y, 8.. temporaries (one per instruction).
# code = [registers, value-and-gradient instructions, all instructions, then (op, dst, a, b) per instruction]

OUT_REGISTERS = 6
X_REGISTER = 6
Y_REGISTER = 7
HEADER = 3

(
    OP_CONST,  # dst = consts[a]
    OP_COPY,  # dst = a
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_NEG,
    OP_POW,
    OP_SQRT,
    OP_EXP,
    OP_LOG,
    OP_SIN,
    OP_COS,
    OP_TAN,
    OP_SINH,
    OP_COSH,
    OP_TANH,
    OP_ATAN,
    OP_ABS,
    OP_SIGN,
    OP_HEAVISIDE,  # 0 below 0, ½ at 0, 1 above (sympy's Heaviside, the derivative of max and min)
    OP_ATAN2,
    OP_MIN,
    OP_MAX,
    OP_SQUARE,
    OP_RECIPROCAL,
    OP_ADD_ERROR,  # the rounding error of a + b (Knuth's TwoSum): a + b = fl(a + b) + error, exactly
    OP_SUB_ERROR,  # the rounding error of a − b
    OP_COMPENSATE,  # a + b, or a where b is not finite (a sum that overflowed keeps plain summation's inf or nan)
) = range(29)

_UNARY = {
    sympy.sin: OP_SIN,
    sympy.cos: OP_COS,
    sympy.tan: OP_TAN,
    sympy.exp: OP_EXP,
    sympy.log: OP_LOG,
    sympy.sinh: OP_SINH,
    sympy.cosh: OP_COSH,
    sympy.tanh: OP_TANH,
    sympy.atan: OP_ATAN,
    sympy.Abs: OP_ABS,
    sympy.sign: OP_SIGN,
    sympy.Heaviside: OP_HEAVISIDE,
}
_BINARY = {sympy.atan2: OP_ATAN2}


class _Lowering:
    """Emits instructions for sympy expressions, sharing identical sub-expressions and constants."""

    def __init__(self) -> None:
        self.instructions: list[tuple[int, int, int, int]] = []
        self.consts: list[float] = []
        self.const_index: dict[float, int] = {}
        self.memo: dict[sympy.Expr, int] = {X: X_REGISTER, Y: Y_REGISTER}
        self.prefixes: dict[tuple[sympy.Expr, ...], int] = {}  # leading factors of a product → their product

    def copy(self) -> _Lowering:
        """An independent copy, to lower the rest of a program two ways from here."""
        other = _Lowering()
        other.instructions = list(self.instructions)
        other.consts = list(self.consts)
        other.const_index = dict(self.const_index)
        other.memo = dict(self.memo)
        other.prefixes = dict(self.prefixes)
        return other

    def emit(self, op: int, a: int = 0, b: int = 0) -> int:
        if len(self.instructions) >= MAX_INSTRUCTIONS:
            raise FormulaError(f"formula too large (more than {MAX_INSTRUCTIONS} operations)")
        register = OUT_REGISTERS + 2 + len(self.instructions)
        self.instructions.append((op, register, a, b))
        return register

    def constant(self, value: float) -> int:
        key = value if value == value else float("nan")
        if key not in self.const_index:
            self.const_index[key] = len(self.consts)
            self.consts.append(value)
        return self.emit(OP_CONST, self.const_index[key])

    def lower(self, expr: sympy.Expr) -> int:
        if expr in self.memo:
            return self.memo[expr]
        register = self._lower(expr)
        self.memo[expr] = register
        return register

    def _lower(self, expr: sympy.Expr) -> int:
        if expr in (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
            raise FormulaError("f or its derivatives are infinite or undefined everywhere, e.g. 1/(x - x)")
        if expr is sympy.I:
            raise FormulaError(
                "f or its derivatives take complex values, e.g. a negative number to a power that depends on x or y"
            )
        if expr.is_Number or expr in (sympy.pi, sympy.E):
            if expr.is_real is not True or expr.is_finite is False:
                raise FormulaError("f or its derivatives take a value that is not a finite real number")
            value = float(expr)
            if not math.isfinite(value):
                raise FormulaError("f or its derivatives hold a constant too large for float64")
            return self.constant(value)
        if expr.is_Add:
            return self._sum(expr.args)
        if expr.is_Mul:
            return self._product(expr.args)
        if expr.is_Pow:
            return self._power(expr.base, expr.exp)
        func = expr.func
        if func in _UNARY:
            return self.emit(_UNARY[func], self.lower(expr.args[0]))
        if func in _BINARY:
            return self.emit(_BINARY[func], self.lower(expr.args[0]), self.lower(expr.args[1]))
        if func in (sympy.Min, sympy.Max):
            op = OP_MIN if func is sympy.Min else OP_MAX
            register = self.lower(expr.args[0])
            for arg in expr.args[1:]:
                register = self.emit(op, register, self.lower(arg))
            return register
        raise FormulaError(f"f or its derivatives contain {func.__name__}, which cannot be evaluated as a real number")

    def _sum(self, terms: tuple[sympy.Expr, ...]) -> int:
        """a + b + c …: the positive terms left to right, then the negated ones subtracted (sympy's order
        of terms within each), compensated when there are three or more terms.

        Compensated (Ogita, Rump and Oishi's Sum2): the exact rounding error of every partial sum
        (TwoSum) is summed apart and added at the end, so the result is as accurate as summing the
        terms in twice the precision and rounding once: within about an ulp of the terms' exact sum
        whatever their order, even where they cancel (a residual such as 1.5 − x + x·y near its zero).
        Two terms need no compensation: fl(a + b) is already their sum correctly rounded.
        """
        positive = [t for t in terms if not _is_negated(t)]
        negative = [-t for t in terms if _is_negated(t)]
        register = self.lower(positive[0]) if positive else self.emit(OP_NEG, self.lower(negative.pop(0)))
        steps = [(OP_ADD, OP_ADD_ERROR, term) for term in positive[1:]]
        steps += [(OP_SUB, OP_SUB_ERROR, term) for term in negative]
        compensated = len(steps) >= 2
        error = -1
        for op, error_op, term in steps:
            operand = self.lower(term)
            if compensated:
                step_error = self.emit(error_op, register, operand)
                error = step_error if error < 0 else self.emit(OP_ADD, error, step_error)
            register = self.emit(op, register, operand)
        return self.emit(OP_COMPENSATE, register, error) if compensated else register

    def _product(self, factors: tuple[sympy.Expr, ...]) -> int:
        """Numerator factors multiplied left to right, divided by the product of the denominator's."""
        sign = 1
        numerator: list[sympy.Expr] = []
        denominator: list[sympy.Expr] = []
        for factor in factors:
            if factor == sympy.S.NegativeOne:
                sign = -sign
            elif factor.is_Rational and factor.p == 1 and factor.q != 1:
                denominator.append(sympy.Integer(factor.q))
            elif factor.is_Pow and factor.exp.is_Number and factor.exp.is_negative:
                denominator.append(sympy.Pow(factor.base, -factor.exp) if factor.exp != -1 else factor.base)
            else:
                numerator.append(factor)
        register = self._running_product(numerator) if numerator else self.constant(1.0)
        if denominator:
            register = self.emit(OP_DIV, register, self._running_product(denominator))
        return self.emit(OP_NEG, register) if sign < 0 else register

    def _running_product(self, factors: list[sympy.Expr]) -> int:
        """f₁·f₂·…·fₙ left to right; products that begin with the same factors share those first multiplications
        (the terms of a product's derivative often do: sympy orders their factors alike)."""
        register = self.lower(factors[0])
        for count in range(2, len(factors) + 1):
            key = tuple(factors[:count])
            shared = self.prefixes.get(key)
            if shared is None:
                shared = self.prefixes[key] = self.emit(OP_MUL, register, self.lower(factors[count - 1]))
            register = shared
        return register

    def _power(self, base: sympy.Expr, exponent: sympy.Expr) -> int:
        if exponent == 2:
            return self.emit(OP_SQUARE, self.lower(base))
        if exponent == -1:
            return self.emit(OP_RECIPROCAL, self.lower(base))
        if exponent == sympy.S.Half:
            return self.emit(OP_SQRT, self.lower(base))
        if exponent == -sympy.S.Half:
            return self.emit(OP_RECIPROCAL, self.emit(OP_SQRT, self.lower(base)))
        if exponent == 3:
            b = self.lower(base)
            return self.emit(OP_MUL, self.emit(OP_SQUARE, b), b)
        if exponent == 4:
            return self.emit(OP_SQUARE, self.emit(OP_SQUARE, self.lower(base)))
        if base == sympy.E:
            return self.emit(OP_EXP, self.lower(exponent))
        return self.emit(OP_POW, self.lower(base), self.lower(exponent))


def _is_negated(term: sympy.Expr) -> bool:
    if term.is_Number:
        return bool(term.is_negative)
    return bool(term.is_Mul and term.args[0].is_Number and term.args[0].is_negative)


@dataclass(frozen=True)
class Program:
    """f, ∇f and ∇²f as one register program: ``code`` (int64) and ``consts`` (float64), for ``run_program``."""

    code: IntArray
    consts: FloatArray

    @property
    def registers(self) -> int:
        return int(self.code[0])

    @property
    def size(self) -> int:
        """Instructions in all; the first ``int(code[1])`` of them give f and ∇f."""
        return int(self.code[2])


def lower(exprs: list[sympy.Expr]) -> Program:
    """The six expressions (f, ∇f, ∇²f) as one program; f and ∇f need only its first part.

    f and ∇f are lowered as sympy wrote them (the chain rule's factored form, ``factored``): each
    sum, product and power in its own order, identical sub-expressions computed once (``memo``) and
    products that begin alike sharing their first multiplications. ``sympy.cse`` is used for the
    Hessian only: it finds more sharing, but regroups products (−400·x·(y − x²) becomes
    x·(400·(y − x²)) when 400·(y − x²) is common), and the gradient, which is what a race runs,
    should round as its formula reads whatever the Hessian holds. The Hessian is lowered both with
    and without ``cse`` and the shorter kept (cse pays for long products, Beale's is shorter without);
    either way its sub-expressions identical to the gradient's are taken from the gradient's registers.
    """
    gradient = _Lowering()
    for slot in range(3):
        gradient.instructions.append((OP_COPY, slot, gradient.lower(exprs[slot]), 0))
    gradient_end = len(gradient.instructions)
    candidates = []
    refusal = None
    for shared in (True, False):
        lowering = gradient.copy()
        hessian = exprs[3:]
        try:
            if shared:
                replacements, hessian = sympy.cse(hessian, symbols=sympy.numbered_symbols("h"), order="none")
                for symbol, value in replacements:
                    lowering.memo[symbol] = lowering.lower(value)
            for slot, expr in enumerate(hessian, start=3):
                lowering.instructions.append((OP_COPY, slot, lowering.lower(expr), 0))
        except FormulaError as error:  # e.g. more than MAX_INSTRUCTIONS one way but not the other
            refusal = error
            continue
        candidates.append(lowering)
    if not candidates:
        assert refusal is not None
        raise refusal
    lowering = min(candidates, key=lambda candidate: len(candidate.instructions))
    count = len(lowering.instructions)
    code = np.empty(HEADER + 4 * count, dtype=np.int64)
    code[:HEADER] = (OUT_REGISTERS + 2 + count, gradient_end, count)
    code[HEADER:] = np.asarray(lowering.instructions, dtype=np.int64).ravel()
    consts = np.asarray(lowering.consts, dtype=np.float64) if lowering.consts else np.zeros(1)
    # left writeable: compiled callers then share one specialization with every other landscape's arrays
    return Program(code, consts)


# --- 4. run ------------------------------------------------------------------------------------------------


@njit(error_model="numpy", cache=True)
def run_steps(code: IntArray, consts: FloatArray, x: float, y: float, out: FloatArray, stop: int) -> None:
    """The first ``stop`` instructions of the program at (x, y); ``out`` is the register file
    (at least ``code[0]`` long), its first six the outputs f, fx, fy, fxx, fxy, fyy."""
    out[6] = x
    out[7] = y
    for i in range(stop):
        k = 3 + 4 * i
        op = code[k]
        d = code[k + 1]
        a = code[k + 2]
        b = code[k + 3]
        if op == 4:  # OP_MUL
            out[d] = out[a] * out[b]
        elif op == 2:  # OP_ADD
            out[d] = out[a] + out[b]
        elif op == 3:  # OP_SUB
            out[d] = out[a] - out[b]
        elif op == 0:  # OP_CONST
            out[d] = consts[a]
        elif op == 1:  # OP_COPY
            out[d] = out[a]
        elif op == 26:  # OP_ADD_ERROR: TwoSum
            u = out[a]
            v = out[b]
            total = u + v
            v_part = total - u
            out[d] = (u - (total - v_part)) + (v - v_part)
        elif op == 27:  # OP_SUB_ERROR: TwoSum of u and −v
            u = out[a]
            v = -out[b]
            total = u + v
            v_part = total - u
            out[d] = (u - (total - v_part)) + (v - v_part)
        elif op == 28:  # OP_COMPENSATE
            v = out[b]
            out[d] = out[a] + v if math.isfinite(v) else out[a]
        elif op == 24:  # OP_SQUARE
            out[d] = out[a] * out[a]
        elif op == 5:  # OP_DIV
            out[d] = out[a] / out[b]
        elif op == 6:  # OP_NEG
            out[d] = -out[a]
        elif op == 25:  # OP_RECIPROCAL
            out[d] = 1.0 / out[a]
        elif op == 7:  # OP_POW
            out[d] = out[a] ** out[b]
        elif op == 8:  # OP_SQRT
            out[d] = math.sqrt(out[a])
        elif op == 9:  # OP_EXP
            out[d] = math.exp(out[a])
        elif op == 10:  # OP_LOG
            out[d] = math.log(out[a])
        elif op == 11:  # OP_SIN
            out[d] = math.sin(out[a])
        elif op == 12:  # OP_COS
            out[d] = math.cos(out[a])
        elif op == 13:  # OP_TAN
            out[d] = math.tan(out[a])
        elif op == 14:  # OP_SINH
            out[d] = math.sinh(out[a])
        elif op == 15:  # OP_COSH
            out[d] = math.cosh(out[a])
        elif op == 16:  # OP_TANH
            out[d] = math.tanh(out[a])
        elif op == 17:  # OP_ATAN
            out[d] = math.atan(out[a])
        elif op == 18:  # OP_ABS
            out[d] = abs(out[a])
        elif op == 19:  # OP_SIGN
            v = out[a]
            out[d] = 1.0 if v > 0 else (-1.0 if v < 0 else v * 0.0)
        elif op == 20:  # OP_HEAVISIDE
            v = out[a]
            out[d] = 1.0 if v > 0 else (0.0 if v < 0 else (0.5 if v == 0 else v))
        elif op == 21:  # OP_ATAN2
            out[d] = math.atan2(out[a], out[b])
        elif op == 22:  # OP_MIN
            u = out[a]
            v = out[b]
            out[d] = u if u < v or u != u else v
        elif op == 23:  # OP_MAX
            u = out[a]
            v = out[b]
            out[d] = u if u > v or u != u else v


@njit(error_model="numpy", cache=True)
def run_program(code: IntArray, consts: FloatArray, x: float, y: float, out: FloatArray) -> None:
    """f, ∇f and ∇²f at (x, y) into out[0..5] (out: the register file, at least ``code[0]`` long)."""
    run_steps(code, consts, x, y, out, code[2])


@njit(error_model="numpy", cache=True)
def program_value_and_grad(code: IntArray, consts: FloatArray, x: float, y: float) -> tuple[float, float, float]:
    """(f, ∂f/∂x, ∂f/∂y) at (x, y), for compiled callers that hold no register file (one is allocated)."""
    registers = np.empty(code[0])
    run_steps(code, consts, x, y, registers, code[1])
    return registers[0], registers[1], registers[2]


@njit(error_model="numpy", cache=True)
def program_hessian(code: IntArray, consts: FloatArray, x: float, y: float) -> tuple[float, float, float]:
    """(∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²) at (x, y), for compiled callers that hold no register file."""
    registers = np.empty(code[0])
    run_steps(code, consts, x, y, registers, code[2])
    return registers[3], registers[4], registers[5]


@njit(error_model="numpy", cache=True)
def run_grid(code: IntArray, consts: FloatArray, xs: FloatArray, ys: FloatArray, hessian: bool) -> FloatArray:
    """The program at every point (xs[i], ys[i]): (n, 3) f and ∇f, or (n, 6) with ∇²f."""
    width = 6 if hessian else 3
    stop = code[2] if hessian else code[1]
    out = np.empty((xs.shape[0], width))
    registers = np.empty(code[0])
    for i in range(xs.shape[0]):
        run_steps(code, consts, xs[i], ys[i], registers, stop)
        for k in range(width):
            out[i, k] = registers[k]
    return out


# --- the compiled formula -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """A compiled formula: its text, the sympy forms of f and its derivatives, and its program."""

    text: str
    canonical: str
    exprs: tuple[sympy.Expr, ...]  # f, fx, fy, fxx, fxy, fyy
    program: Program

    def value_and_grad_xy(self, x: Any, y: Any) -> tuple[Any, Any, Any]:
        """(f, ∂f/∂x, ∂f/∂y) at coordinate arrays x, y of one shape, or at two floats."""
        if isinstance(x, float) and isinstance(y, float):
            return program_value_and_grad(self.program.code, self.program.consts, x, y)
        values = self._grid(x, y, hessian=False)
        return values[0], values[1], values[2]

    def hessian_xy(self, x: Any, y: Any) -> tuple[Any, Any, Any]:
        """(∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²) at coordinate arrays x, y, or at two floats."""
        if isinstance(x, float) and isinstance(y, float):
            return program_hessian(self.program.code, self.program.consts, x, y)
        values = self._grid(x, y, hessian=True)
        return values[3], values[4], values[5]

    def _grid(self, x: Any, y: Any, hessian: bool) -> list[FloatArray]:
        x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        flat = run_grid(self.program.code, self.program.consts, x.ravel(), y.ravel(), hessian)
        return [flat[:, k].reshape(x.shape) for k in range(flat.shape[1])]

    def text_forms(self) -> dict[str, str]:
        """f and its derivatives as plain text (sympy's string form, ** written ^)."""
        with factored():
            return {name: str(expr).replace("**", "^") for name, expr in zip(OUTPUTS, self.exprs, strict=True)}

    def latex_forms(self) -> dict[str, str]:
        """f and its derivatives in LaTeX."""
        with factored():
            return {name: sympy.latex(expr) for name, expr in zip(OUTPUTS, self.exprs, strict=True)}


def compile_formula(text: str) -> Formula:
    """Parse, differentiate and lower ``text``; raises ``FormulaError``.

    Cached by canonical form (``2 x`` and ``2*x`` share an entry), refusals too, so a repeated
    hostile formula costs a dictionary look-up.
    """
    tree = parse(text)
    key = canonical(tree)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
    if cached is None:
        cached = _compile_tree(tree)
        with _CACHE_LOCK:
            _CACHE[key] = cached
            while len(_CACHE) > LRU_SIZE:
                _CACHE.popitem(last=False)
    if isinstance(cached, FormulaError):
        raise FormulaError(cached.problem, cached.position, cached.hint)
    exprs, program = cached
    return Formula(text, key, exprs, program)


def cache_size() -> int:
    """How many canonical forms the cache holds (at most LRU_SIZE)."""
    return len(_CACHE)


_CACHE: OrderedDict[str, tuple[tuple[sympy.Expr, ...], Program] | FormulaError] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _compile_tree(tree: Node) -> tuple[tuple[sympy.Expr, ...], Program] | FormulaError:
    estimate = derivative_sizes(tree)[2]
    if estimate > MAX_SECOND_DERIVATIVE:
        return FormulaError(
            f"formula too complex to differentiate: its second derivatives would have about {estimate} terms "
            f"(at most {MAX_SECOND_DERIVATIVE}); long products of non-constant factors grow fastest"
        )
    try:
        with factored():
            exprs = derivatives(to_sympy(tree))
            return tuple(exprs), lower(exprs)
    except FormulaError as error:
        return error
    except RecursionError:
        return FormulaError("formula nested too deeply to differentiate")
    except (ArithmeticError, ValueError, TypeError, AttributeError) as error:  # sympy refusing an expression
        return FormulaError(f"cannot differentiate this formula ({type(error).__name__})")


# --- critical points ---------------------------------------------------------------------------------------


class CriticalPoints(NamedTuple):
    """Where ∇f = 0 inside a domain: minima (point, value) lowest first, and saddles (point, value)."""

    minima: list[tuple[tuple[float, float], float]]
    saddles: list[tuple[tuple[float, float], float]]


MAX_MINIMA = 24
MAX_SADDLES = 16
MINIMA_STARTS = 64  # lowest local minima of the grid refined (a flat region has thousands)
SADDLE_STARTS = 128  # grid points of locally smallest gradient sent to Newton


def critical_points(
    formula: Formula, xmin: float, xmax: float, ymin: float, ymax: float, grid: int = 161
) -> CriticalPoints:
    """Minima and saddles of ``formula`` on [xmin, xmax] × [ymin, ymax], found numerically.

    Minima: the lowest MINIMA_STARTS local minima of a ``grid`` × ``grid`` sample, each refined by a
    shrinking 5 × 5 pattern search (no derivative needed, so kinks do no harm), then Newton steps with the
    exact Hessian;
    kept if inside the domain with ‖∇f‖ ≤ 1e-6·(1 + |f|) and no direction of negative curvature.
    Saddles: Newton's method on ∇f = 0 (which goes to any critical point) from the sample points
    where ‖∇f‖ is a local minimum, kept where the Hessian is indefinite. Both are merged within
    1e-6 of the domain's size and capped at MAX_MINIMA and MAX_SADDLES.
    """
    xs = np.linspace(xmin, xmax, grid)
    ys = np.linspace(ymin, ymax, grid)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    with np.errstate(all="ignore"):
        values = run_grid(formula.program.code, formula.program.consts, gx.ravel(), gy.ravel(), False)
    z = values[:, 0].reshape(grid, grid)
    gnorm = np.hypot(values[:, 1], values[:, 2]).reshape(grid, grid)
    scale = max(xmax - xmin, ymax - ymin)
    spacing = max(xs[1] - xs[0], ys[1] - ys[0])
    points = np.stack([gx, gy], axis=-1)

    lowest = _local_minima(z)
    minima_starts = _lowest(points[lowest], z[lowest], MINIMA_STARTS)
    flattest = _local_minima(gnorm) & ~lowest
    saddle_starts = _lowest(points[flattest], gnorm[flattest], SADDLE_STARTS)
    with np.errstate(all="ignore"):
        found_min = _newton(formula, _pattern_search(formula, minima_starts, spacing), descend=True)
        found_saddle = _newton(formula, saddle_starts, descend=False)
    minima = _keep(formula, found_min, (xmin, xmax, ymin, ymax), scale, want="min")[:MAX_MINIMA]
    saddles = _keep(formula, found_saddle, (xmin, xmax, ymin, ymax), scale, want="saddle")[:MAX_SADDLES]
    return CriticalPoints(minima, saddles)


def _lowest(points: FloatArray, values: FloatArray, count: int) -> FloatArray:
    """The ``count`` points of lowest value (all of them if fewer)."""
    return points[np.argsort(values, kind="stable")[:count]]


def _local_minima(z: FloatArray) -> npt.NDArray[np.bool_]:
    """Points no higher than their eight neighbours (NaN is never a minimum)."""
    n, m = z.shape
    clean = np.where(np.isfinite(z), z, np.inf)
    padded = np.pad(clean, 1, constant_values=np.inf)
    is_min = np.isfinite(clean)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= clean <= padded[1 + di : 1 + di + n, 1 + dj : 1 + dj + m]
    return is_min


_STENCIL = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)], dtype=np.float64)
_STENCIL_EDGE = np.abs(_STENCIL).max(axis=1) == 2
_CENTER = 12  # the stencil's (0, 0)


def _values(formula: Formula, points: FloatArray) -> FloatArray:
    flat = points.reshape(-1, 2)
    out = run_grid(formula.program.code, formula.program.consts, flat[:, 0].copy(), flat[:, 1].copy(), False)
    value = out[:, 0].reshape(points.shape[:-1])
    return np.where(np.isfinite(value), value, np.inf)


def _pattern_search(formula: Formula, points: FloatArray, spacing: float) -> FloatArray:
    """Each point moves to the lowest of a 5 × 5 stencil around it; the stencil halves unless that was on its rim."""
    if not len(points):
        return points
    step = np.full(len(points), spacing)
    rows = np.arange(len(points))
    for _ in range(40):  # the step falls below 1e-13 of a grid spacing; Newton polishes the rest
        trial = points[:, None, :] + step[:, None, None] * _STENCIL
        values = _values(formula, trial)
        best = values.argmin(axis=1)
        best = np.where(values[rows, best] < values[:, _CENTER], best, _CENTER)  # move only to a lower point
        points = trial[rows, best]
        step = np.where(_STENCIL_EDGE[best], step, 0.5 * step)
    return points


def _newton(formula: Formula, points: FloatArray, descend: bool, rounds: int = 30) -> FloatArray:
    """Newton steps θ ← θ − H⁻¹∇f. ``descend``: only where H is positive definite and f does not rise."""
    if not len(points):
        return points
    for _ in range(rounds):
        out = run_grid(formula.program.code, formula.program.consts, points[:, 0].copy(), points[:, 1].copy(), True)
        f, gx, gy, hxx, hxy, hyy = out.T
        det = hxx * hyy - hxy * hxy
        step = np.stack([(hyy * gx - hxy * gy) / det, (hxx * gy - hxy * gx) / det], axis=1)
        candidate = points - step
        ok = np.isfinite(step).all(axis=1) & (det != 0)
        if descend:
            ok &= (det > 0) & (hxx > 0)
            ok &= _values(formula, candidate) <= f + 1e-12 * (1 + np.abs(f))
        points = np.where(ok[:, None], candidate, points)
    return points


def _keep(
    formula: Formula, points: FloatArray, domain: tuple[float, float, float, float], scale: float, want: str
) -> list[tuple[tuple[float, float], float]]:
    if not len(points):
        return []
    xmin, xmax, ymin, ymax = domain
    with np.errstate(all="ignore"):
        out = run_grid(formula.program.code, formula.program.consts, points[:, 0].copy(), points[:, 1].copy(), True)
    f, gx, gy, hxx, hxy, hyy = out.T
    det = hxx * hyy - hxy * hxy
    inside = (points[:, 0] >= xmin) & (points[:, 0] <= xmax) & (points[:, 1] >= ymin) & (points[:, 1] <= ymax)
    with np.errstate(all="ignore"):
        flat = np.hypot(gx, gy) <= 1e-6 * (1 + np.abs(f))
        curvature = np.abs(hxx) + np.abs(hyy) + np.abs(hxy)
        if want == "min":
            shape_ok = (hxx + hyy >= 0) & (det >= -1e-9 * curvature * curvature)
        else:
            shape_ok = det < -1e-9 * curvature * curvature
    keep = inside & flat & shape_ok & np.isfinite(f) & np.isfinite(points).all(axis=1)
    found: list[tuple[tuple[float, float], float]] = []
    for index in np.argsort(np.where(keep, f, np.inf), kind="stable"):
        if not keep[index]:
            break
        # coordinates within 1e-12 of the domain's size from an axis are on it (no -5e-324)
        px, py = (float(v) if abs(v) > 1e-12 * scale else 0.0 for v in points[index])
        point = (px, py)
        if all(math.dist(point, other) > 1e-6 * scale for other, _ in found):
            found.append((point, float(f[index])))
    return found
