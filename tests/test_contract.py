"""The source notebooks follow the cell contract of the course spec."""

from __future__ import annotations

import inspect
import json
import re

from autograder import SOLUTIONS
from autograder.contract import TEST_ID, load_course
from autograder.hidden import ref

# Every graded function of the spec, with its exact parameters, per chapter that exists.
SPEC = {
    "01-tokens": {
        "tokenize": "(text)",
        "build_vocab": "(corpus, min_freq=1)",
        "encode": "(text, vocab)",
        "decode": "(ids, vocab)",
        "one_hot": "(ids, vocab_size)",
        "embed": "(ids, E)",
        "cosine_similarity": "(a, b)",
        "bpe_merges": "(corpus, num_merges)",
        "bpe_encode": "(text, merges)",
    },
    "02-qkv": {"project_qkv": "(X, W_q, W_k, W_v)", "attention_scores": "(Q, K)"},
    "03-attention": {
        "softmax": "(x, axis=-1)",
        "scaled_dot_product_attention": "(Q, K, V, mask=None)",
        "softmax_jacobian": "(p)",
    },
    "04-masking": {
        "causal_mask": "(n)",
        "padding_mask": "(lengths, max_len)",
        "additive_mask": "(mask)",
        "decode_mask": "(n_q, n_k)",
    },
    "05-multi-head": {
        "split_heads": "(X, n_heads)",
        "merge_heads": "(X)",
        "multi_head_attention": "(X_q, X_kv, params, n_heads, mask=None)",
        "mha_param_count": "(d_model, n_heads, bias=True)",
        "grouped_query_attention": "(X_q, X_kv, params, n_heads, n_kv_heads, mask=None)",
    },
    "06-positions": {
        "sinusoidal_positional_encoding": "(seq_len, d_model, base=10000.0)",
        "rope": "(x, positions=None, base=10000.0)",
    },
    "07-residuals": {
        "feed_forward": "(x, W_1, b_1, W_2, b_2)",
        "residual": "(x, sublayer)",
        "stack_gradient_norms": "(x, weights, use_residual)",
    },
    "08-layer-norm": {
        "layer_norm": "(x, gamma, beta, eps=1e-05)",
        "batch_norm": "(x, gamma, beta, eps=1e-05)",
        "rms_norm": "(x, gamma, eps=1e-06)",
    },
    "09-cross-entropy": {
        "log_softmax": "(logits, axis=-1)",
        "cross_entropy": "(logits, targets, ignore_index=None)",
        "cross_entropy_grad": "(logits, targets, ignore_index=None)",
        "perplexity": "(logits, targets, ignore_index=None)",
        "shift_for_next_token": "(ids)",
    },
    "10-gpt": {
        "transformer_block": "(x, params, n_heads, mask=None, norm_first=True)",
        "gpt_forward": "(ids, params)",
        "next_token_distribution": "(logits, temperature=1.0, top_k=None, top_p=None)",
        "generate": "(params, prompt_ids, max_new_tokens, temperature=0.0, top_k=None, top_p=None, seed=0)",
    },
    "11-encoder-decoder": {
        "seq2seq_masks": "(src_lengths, tgt_lengths, n_src, n_tgt)",
        "decoder_layer": "(y, memory, params, n_heads, self_mask=None, cross_mask=None)",
        "encoder_forward": "(src_ids, params, enc_mask=None)",
        "seq2seq_forward": "(src_ids, tgt_ids, params, src_lengths=None, tgt_lengths=None)",
        "greedy_translate": "(params, src_ids, bos_id, eos_id, max_new_tokens)",
    },
    "12-backprop": {
        "numerical_gradient": "(f, x, eps=1e-06)",
        "linear_backward": "(x, W, grad_y)",
        "feed_forward_backward": "(x, W_1, b_1, W_2, b_2, grad_y)",
        "softmax_backward": "(p, grad_p, axis=-1)",
        "layer_norm_backward": "(x, gamma, grad_y, eps=1e-05)",
        "attention_backward": "(Q, K, V, grad_out, mask=None)",
        "embedding_backward": "(ids, grad_out, vocab_size)",
    },
    "13-training": {
        "gpt_loss_and_grads": "(ids, targets, params, ignore_index=None)",
        "clip_grad_norm": "(grads, max_norm)",
        "lr_schedule": "(step, max_lr, warmup_steps, total_steps, min_lr=0.0)",
        "adamw_step": "(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0)",
        "train_step": "(params, state, ids, targets, step, config)",
    },
}


def test_every_spec_function_has_an_answer_cell_with_the_exact_signature():
    course = {c.assignment: c for c in load_course(SOLUTIONS)}
    assert set(course) <= set(SPEC), f"chapters without a SPEC entry here: {set(course) - set(SPEC)}"
    for assignment, functions in SPEC.items():
        assert assignment in course, f"chapter {assignment} is missing"
        for name, signature in functions.items():
            assert name in course[assignment].answers, f"{assignment}: no answer cell {name!r}"
            assert str(inspect.signature(getattr(ref, name))) == signature, f"{name}{signature}"


def test_each_function_has_several_test_cells_and_each_chapter_3_to_5_quizzes():
    for c in load_course(SOLUTIONS):
        functions = [a for a in c.answers if not a.startswith("quiz_")]
        quizzes = [a for a in c.answers if a.startswith("quiz_")]
        for f in functions:
            cells = [t for t in c.tests if t.target == f]
            assert len(cells) >= 2, f"{f} needs several test cells for partial credit"
            assert all(t.points > 0 for t in cells)
        assert 3 <= len(quizzes) <= 5, f"{c.assignment} has {len(quizzes)} concept questions"
        for q in quizzes:
            assert re.fullmatch(r"quiz_[a-z0-9]+(_[a-z0-9]+)*_\d+", q), q
            assert any(t.target == q for t in c.tests), f"{q} has no test cell"


def test_test_cells_open_with_a_docstring_and_name_an_answer():
    for c in load_course(SOLUTIONS):
        for t in c.tests:
            assert TEST_ID.match(t.grade_id)
            assert t.source.lstrip().startswith('"""'), f"{t.grade_id} should open with a one-line docstring"


def test_every_code_cell_is_marked_for_nbgrader_and_there_is_one_setup_cell():
    for path in sorted(SOLUTIONS.glob("*/*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        unmarked = [i for i, c in enumerate(code) if not c["metadata"].get("nbgrader", {}).get("grade_id")]
        assert not unmarked, f"{path}: code cells {unmarked} have no nbgrader grade_id"
        setup = [c for c in code if "setup" in c["metadata"].get("tags", [])]
        assert len(setup) == 1, f"{path}: expected exactly one setup cell"
