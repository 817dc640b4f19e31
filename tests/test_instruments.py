"""The folk instrument map: names, aliases, GM programs, drums, clear errors."""

import pytest

from symbolic.instruments import UnknownInstrumentError, instrument, known_instruments, preset_for


def test_names_and_aliases_resolve_to_gm_programs() -> None:
    assert instrument("fiddle").program == 40 and instrument("Violin") == instrument("fiddle")
    assert instrument("tin-whistle").program == 78 and instrument("Tin Whistle").name == "tin whistle"
    assert instrument("uilleann_pipes").program == 109
    assert {"fiddle", "flute", "accordion", "concertina", "harp", "guitar", "bouzouki", "piano",
            "bodhran"} <= set(known_instruments())


def test_bodhran_is_percussion_with_drum_notes() -> None:
    drum = instrument("bodhrán")
    assert drum.is_drum and drum.drum_notes["strong"] == 41
    assert preset_for(drum, "/usr/share/sounds/sf2/FluidR3_GM.sf2") == (128, 0)
    assert preset_for(instrument("flute"), "any.sf2") == (0, 73)


def test_unknown_instrument_lists_the_known_ones() -> None:
    with pytest.raises(UnknownInstrumentError, match="unknown instrument 'kazoo'; known: accordion, banjo"):
        instrument("kazoo")
