"""Command line for every registered generator: the same files a generate job writes.

    python -m generators.render SLUG --n N --seed S [--params params.json] --out DIR

Exit status 2 on an unknown generator or invalid parameters, with a message
naming the known generators or the offending parameter.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm import tqdm

from generators import registry
from generators.params import ParameterError

USAGE_ERROR = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m generators.render",
        description="Render a synthetic dataset with a registered generator.")
    parser.add_argument("slug", help="generator to run, e.g. digits or scenes")
    parser.add_argument("--n", type=int, help="number of samples (overrides the params file)")
    parser.add_argument("--seed", type=int, help="random seed (overrides the params file)")
    parser.add_argument("--params", type=Path, help="JSON file with the generator's parameters")
    parser.add_argument("--out", type=Path, required=True, help="directory to write the files into")
    return parser.parse_args(argv)


def load_params(args: argparse.Namespace) -> dict[str, Any]:
    params: Any = {}
    if args.params is not None:
        try:
            params = json.loads(args.params.read_text())
        except OSError as error:
            raise ParameterError("--params", f"cannot read {args.params}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise ParameterError("--params", f"{args.params} is not valid JSON: {error}") from None
        if not isinstance(params, dict):
            raise ParameterError("--params", f"{args.params} must hold a JSON object")
    for name in ("n", "seed"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    return params


def generate(slug: str, params: dict[str, Any], out: Path) -> dict[str, Any]:
    """Validate, run with a progress bar, and move the files into ``out`` once complete."""
    spec = registry.get(slug)
    filled = registry.validate(slug, params)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".partial-") as scratch, \
            tqdm(total=1.0, unit="", desc=slug, bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}",
                 file=sys.stderr) as bar:

        def progress(fraction: float, message: str) -> None:
            bar.update(fraction - bar.n)
            bar.set_postfix_str(message)

        result = spec.run(filled, Path(scratch), progress)
        # Files appear in out only when the whole run succeeded.
        for path in sorted(Path(scratch).iterdir()):
            shutil.move(str(path), out / path.name)
    return {"generator": slug, "out": str(out), "params": filled, **asdict(result)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        report = generate(args.slug, load_params(args), args.out)
    except registry.UnknownGenerator as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except ParameterError as error:
        print(f"error: invalid parameter {error.field!r}: {error.message}", file=sys.stderr)
        return USAGE_ERROR
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
