import pytest

from ferry.files import asset_id_for, file_id_from_reference, new_file_id


def test_asset_id_round_trips_to_the_file_id() -> None:
    file_id = new_file_id()
    asset_id = asset_id_for(file_id)
    assert asset_id.startswith("asset_") and asset_id[6:] == file_id[5:]
    assert file_id_from_reference(asset_id) == file_id
    assert file_id_from_reference("asset://" + asset_id) == file_id
    assert file_id_from_reference(file_id) == file_id


@pytest.mark.parametrize(
    "reference",
    [
        "https://example.com/a.png",
        "asset://",
        "asset://file",
        "file_" + "g" * 32,
        "file_" + "a" * 31,
        "asset://asset_" + "A" * 32,
        "asset_" + "a" * 33,
        "data:image/png;base64,AAAA",
    ],
)
def test_anything_else_is_not_a_file_reference(reference: str) -> None:
    assert file_id_from_reference(reference) is None
