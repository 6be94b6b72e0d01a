"""What a refused or unreadable .pth says: a malicious pickle is refused with
torch's reason as a whole sentence; random bytes are "not a readable PyTorch
file", never "Python objects other than weights"; nothing runs."""

from __future__ import annotations

import pickle
import random

import pytest
import torch

from artstudio.model_files import identify, safe_load


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def test_the_refusal_quotes_torchs_reason_whole(tmp_path):
    marker = tmp_path / "marker.txt"
    evil = tmp_path / "evil.pth"
    torch.save({"w": torch.zeros(2), "payload": _Exploit(marker)}, evil)
    with pytest.raises(safe_load.UnsafeModelError) as caught:
        safe_load.load_state_dict(evil)
    message = str(caught.value)
    assert message.startswith("Refused to load evil.pth: it contains Python objects other than "
                              "weights, and unpickling them could run arbitrary code.")
    assert message.endswith("(torch: Unsupported global: GLOBAL exec was not an allowed "
                            "global by default.)")
    assert "\x1b" not in message and "weights_only` set to `False`" not in message
    assert not marker.exists()


def test_a_plain_pickle_with_code_is_refused_too(tmp_path):
    marker = tmp_path / "marker.txt"
    evil = tmp_path / "plain.pth"
    evil.write_bytes(pickle.dumps({"payload": _Exploit(marker)}, protocol=4))
    with pytest.raises(safe_load.UnsafeModelError, match="arbitrary code"):
        safe_load.load_state_dict(evil)
    assert not marker.exists()


@pytest.mark.parametrize("seed", [0, 1, 2, 20])  # 2 and 20 raise IndexError / KeyError in torch
def test_random_bytes_are_not_a_pytorch_file(tmp_path, seed):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(random.Random(seed).randbytes(4096))
    with pytest.raises(safe_load.InvalidModelError) as caught:
        safe_load.load_state_dict(junk)
    message = str(caught.value)
    assert message == ("junk.pth is not a readable PyTorch file: it is neither a zip archive "
                       "nor a pickle (corrupt, or another format renamed).")
    info = identify.identify(junk)
    assert info.kind == "invalid" and "Python objects" not in info.notes[0]


def test_a_torch_file_cut_short_says_so_in_whole_sentences(tmp_path):
    whole = tmp_path / "whole.pth"
    torch.save({"w": torch.arange(4096.0)}, whole)
    cut = tmp_path / "cut.pth"
    cut.write_bytes(whole.read_bytes()[:3000])
    with pytest.raises(safe_load.InvalidModelError) as caught:
        safe_load.load_state_dict(cut)
    message = str(caught.value)
    assert message.startswith("cut.pth is not a readable PyTorch file (corrupt or truncated).")
    assert message.endswith(")") and "Python objects" not in message


def test_torch_detail_never_cuts_a_sentence():
    text = ("Weights only load failed. This file can still be loaded, \x1b[1mdo those steps "
            "only if you trust the source\x1b[0m.\n\tWeightsUnpickler error: Unsupported global: "
            "GLOBAL os.system was not an allowed global by default. Please use `torch."
            "serialization.add_safe_globals([os.system])` to allowlist it.\n\nCheck the docs.")
    assert safe_load.torch_detail(text) == ("Unsupported global: GLOBAL os.system was not an "
                                            "allowed global by default.")
    assert safe_load.torch_detail("x" * 500 + ".") == ""
    assert safe_load.torch_detail("Short. Second sentence.") == "Short."
