from __future__ import annotations

from portico.services.logs.writer import WireBatch, _pieces


def _batch(stream: str, count: int, first: int = 0) -> WireBatch:
    events = [(first + n, f"{stream} {first + n}\n") for n in range(count)]
    return ("000000000000", "us-east-1", "/aws/lambda/f", stream, events)


def test_a_flush_is_cut_into_pieces_of_at_most_the_size_in_order() -> None:
    batches = [_batch("a", 3), _batch("b", 7), _batch("c", 1)]
    pieces = list(_pieces(batches, 4))
    assert [sum(len(batch[4]) for batch in piece) for piece in pieces] == [4, 4, 3]
    # a stream's events are split where a piece ends, and nothing is lost or reordered
    assert [[(batch[3], len(batch[4])) for batch in piece] for piece in pieces] == [
        [("a", 3), ("b", 1)],
        [("b", 4)],
        [("b", 2), ("c", 1)],
    ]
    flattened = [event for piece in pieces for batch in piece for event in batch[4]]
    assert flattened == [event for batch in batches for event in batch[4]]


def test_a_flush_that_fits_is_one_piece_and_an_exact_fit_leaves_no_empty_piece() -> None:
    assert list(_pieces([_batch("a", 2)], 4)) == [[_batch("a", 2)]]
    assert list(_pieces([_batch("a", 4)], 4)) == [[_batch("a", 4)]]
    assert list(_pieces([_batch("a", 8)], 4)) == [[_batch("a", 4)], [_batch("a", 4, 4)]]
    assert list(_pieces([], 4)) == []
