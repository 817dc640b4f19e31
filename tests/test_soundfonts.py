"""Soundfont search order, preset tables read from the files, and the `soundfonts` listing."""

from __future__ import annotations

from pathlib import Path

import pytest

import symbolic.audio.soundfonts as soundfonts
from symbolic.audio.soundfonts import (
    SoundfontError,
    find_soundfont,
    list_soundfonts,
    pretty_midi_soundfont,
    read_presets,
)
from symbolic.cli.main import main as run_cli
from symbolic.instruments import _load, instrument, known_instruments

FLUID_R3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TIM = pretty_midi_soundfont()




def test_search_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(soundfonts.ENV_VAR, raising=False)
    assert TIM is not None and TIM.name == "TimGM6mb.sf2"  # pretty_midi ships it
    assert find_soundfont() == FLUID_R3  # Debian's fluid-soundfont-gm, installed here
    monkeypatch.setenv(soundfonts.ENV_VAR, str(TIM))
    assert find_soundfont() == TIM
    link = tmp_path / "Mine.sf2"
    link.symlink_to(FLUID_R3)
    assert find_soundfont(link) == link  # --soundfont beats the environment
    monkeypatch.delenv(soundfonts.ENV_VAR)
    monkeypatch.setattr(soundfonts, "SYSTEM_SOUNDFONTS", ())  # a machine without system soundfonts
    assert find_soundfont() == TIM


def test_a_user_given_path_that_is_wrong_is_an_error_not_a_fallback(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    monkeypatch.setenv(soundfonts.ENV_VAR, str(tmp_path / "gone.sf2"))
    with pytest.raises(SoundfontError, match=r"gone.sf2 \(from \$SYMBOLIC_SOUNDFONT\) does not exist"):
        find_soundfont()
    text = tmp_path / "notes.sf2"
    text.write_text("not a soundfont")
    with pytest.raises(SoundfontError, match="not a SoundFont file"):
        find_soundfont(text)
    truncated = tmp_path / "cut.sf2"
    truncated.write_bytes(TIM.read_bytes()[:4096])
    with pytest.raises(SoundfontError, match="cut.sf2"):
        read_presets(truncated)


def test_preset_table_agrees_with_fluidsynth() -> None:
    """Our phdr reader against FluidSynth's own preset lookup, for every preset of TimGM6mb."""
    import fluidsynth

    presets = read_presets(TIM)
    synth = fluidsynth.Synth()
    try:
        sfid = synth.sfload(str(TIM))
        for (bank, number), name in presets.items():
            assert synth.sfpreset_name(sfid, bank, number) == name
        assert synth.sfpreset_name(sfid, 5, 5) is None and (5, 5) not in presets
    finally:
        synth.delete()
    fluid = read_presets(FLUID_R3)
    assert fluid[(0, 40)] == "Violin" and fluid[(128, 0)] == "Standard" and len(fluid) == 189


def test_every_override_names_a_preset_its_soundfont_has() -> None:
    files = {FLUID_R3.name: FLUID_R3, TIM.name: TIM}
    for filename, overrides in _load()["soundfont_presets"].items():
        if filename.startswith("_") or filename not in files:
            continue
        presets = read_presets(files[filename])
        for name, (bank, number) in overrides.items():
            instrument(name)  # a known instrument
            assert (bank, number) in presets, f"{filename}: {name} -> {bank}:{number} missing"


def test_both_soundfonts_cover_every_folk_instrument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(soundfonts.ENV_VAR, raising=False)
    infos = {info.path: info for info in list_soundfonts()}
    for path in (FLUID_R3, TIM):
        assert infos[path].covered == known_instruments()


def test_soundfonts_command_lists_what_it_finds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(soundfonts.ENV_VAR, raising=False)
    assert run_cli(["soundfonts"]) == 0
    out = capsys.readouterr().out
    assert f"* {FLUID_R3} [system] 189 presets  <- used" in out
    assert f"  {TIM} [pretty_midi]" in out
    assert "mandolin (Mandolin)" in out and "tin whistle (Piccolo)" in out  # the per-soundfont overrides
    assert run_cli(["soundfonts", "--soundfont", str(tmp_path / "x.sf2")]) == 1
    out = capsys.readouterr().out
    assert "no usable soundfont" in out and "unusable" in out
