import time
from pathlib import Path

import pytest
import streamlit.testing.v1.app_test as app_test
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


class RecordingStorage(MemoryMediaFileStorage):
    """Keeps what download buttons serve, so tests can read the files a user would get."""

    files: dict[str, bytes] = {}

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        fid = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        data = path_or_data.encode() if isinstance(path_or_data, str) else path_or_data
        RecordingStorage.files[self.get_url(fid)] = data
        return fid


class RecordingManager(MediaFileManager):
    """Keeps the callables of lazy download buttons (data=callable), so tests can make the file."""

    deferred: dict = {}

    def add_deferred(self, data_callable, *args, **kwargs):
        fid = super().add_deferred(data_callable, *args, **kwargs)
        RecordingManager.deferred[fid] = data_callable
        return fid


@pytest.fixture
def at(monkeypatch, tmp_path):
    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", RecordingStorage)
    monkeypatch.setattr(app_test, "MediaFileManager", RecordingManager)
    monkeypatch.setenv("KAN_STUDIO_WORKSPACES", str(tmp_path / "workspaces"))
    test = AppTest.from_file(APP, default_timeout=60)
    test.run()
    assert not test.exception
    return test


def click(at, label):
    [b for b in at.button if b.label == label][0].click().run()
    assert not at.exception, at.exception


def download(at, label) -> bytes:
    button = [b for b in at.download_button if b.label == label][0]
    if button.proto.HasField("deferred_file_id"):  # data=callable: made when the user clicks
        data = RecordingManager.deferred[button.proto.deferred_file_id]()
        return data.encode() if isinstance(data, str) else data
    return RecordingStorage.files[button.proto.url]


def train(at, steps=None):
    at.switch_page("app/pages/train.py").run()
    if steps is not None:
        [n for n in at.number_input if n.label == "Steps"][0].set_value(steps).run()
    click(at, "Train")
    studio = at.session_state["studio"]
    deadline = time.time() + 60
    while studio.training and time.time() < deadline:
        time.sleep(0.2)
    at.run()
    assert not at.exception
    return studio
