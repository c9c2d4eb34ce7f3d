"""vk_api's VkUpload end to end: upload URL, multipart POST, save, then send the attachment."""

from __future__ import annotations

import io

import pytest
import requests
import vk_api
from vk_api.upload import VkUpload

GROUP_ID = 227000001
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 20


def test_a_document_goes_up_and_out(sandbox, sandbox_vk, api):
    student = sandbox.add_user()["id"]
    upload = VkUpload(sandbox_vk)
    document = io.BytesIO("Фамилия;Пропуски\nПетров;2\n".encode())
    document.name = "register.csv"
    saved = upload.document_message(document, title="Журнал", peer_id=student)
    assert saved["type"] == "doc"
    doc = saved["doc"]
    assert (doc["title"], doc["ext"], doc["owner_id"]) == ("Журнал", "csv", -GROUP_ID)
    assert doc["size"] == len("Фамилия;Пропуски\nПетров;2\n".encode())
    assert requests.get(doc["url"], timeout=5).content == "Фамилия;Пропуски\nПетров;2\n".encode()
    attachment = f"doc{doc['owner_id']}_{doc['id']}"
    api.messages.send(peer_id=student, message="Журнал за май", random_id=1, attachment=attachment)
    [message] = sandbox.messages(student)
    assert message["attachments"] == [{"type": "doc", "doc": doc}]


def test_a_photo_goes_up_and_out(sandbox, sandbox_vk, api):
    student = sandbox.add_user()["id"]
    photo = io.BytesIO(PNG)
    photo.name = "timetable.png"
    [saved] = VkUpload(sandbox_vk).photo_messages(photo, peer_id=student)
    assert saved["owner_id"] == -GROUP_ID and saved["album_id"] == -64
    attachment = f"photo{saved['owner_id']}_{saved['id']}_{saved['access_key']}"
    api.messages.send(peer_id=student, message="Расписание", random_id=1, attachment=attachment)
    [message] = sandbox.messages(student)
    assert message["attachments"][0]["photo"]["id"] == saved["id"]


def test_saving_needs_what_the_upload_server_gave(sandbox, api):
    with pytest.raises(vk_api.ApiError) as error:
        api.docs.save(file="made-up")
    assert error.value.code == 100
    with pytest.raises(vk_api.ApiError) as error:
        api.photos.saveMessagesPhoto(photo='[{"photo":"x"}]', server=838, hash="0" * 32)
    assert error.value.code == 121


def test_the_upload_server_refuses_bad_uploads(sandbox, api):
    url = api.docs.getMessagesUploadServer(peer_id=1)["upload_url"]
    assert requests.post(url, data={"x": "1"}, timeout=5).json() == {"error": "no file"}
    assert requests.post(url + "x", files={"file": ("a.txt", b"a")}, timeout=5).json() == {
        "error": "invalid upload key"
    }
    assert (
        requests.post(
            url, data=b"--garbage", headers={"content-type": "multipart/form-data; boundary=zz"}, timeout=5
        ).status_code
        == 200
    )
    assert requests.post(url, files={"file": ("a.txt", b"hello")}, timeout=5).json()["file"]
