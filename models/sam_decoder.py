"""segment-anything's mask decoder, computed for many objects on one image without
repeating the image per object.

SAM's MaskDecoder repeats the image embedding for every object and projects all of its
4096 tokens into each attention (256 -> 128 channels, split into heads). The prompt side
has a handful of tokens, so the same products can be taken on the prompt side instead:
a head's scores q·(Y Wk + bk)ᵀ are (q Wk)·Yᵀ plus a constant that softmax drops, and its
values A·(Y Wv + bv) are (A·Y) Wv + bv. That is the same arithmetic in another order
(results agree with MaskDecoder to float rounding), with about a third of the
multiply-adds and none of the per-head copies of the image. The transposed convolutions
of the output upscaling (kernel 2, stride 2) are per-pixel linear maps, so they run as
matrix products on channels-last pixels, and the masks are put in image order last.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


class LeanMaskDecoder:
    """MaskDecoder.predict_masks of a segment-anything MaskDecoder for B objects on one
    image embedding, from the decoder's own weights (in the dtype they have now)."""

    def __init__(self, decoder):
        self.decoder = decoder
        up_conv1, self.up_norm, self.up_act1, up_conv2, self.up_act2 = decoder.output_upscaling
        self.up_weight1, self.up_bias1 = _pixel_linear(up_conv1)
        self.up_weight2, self.up_bias2 = _pixel_linear(up_conv2)

    def __call__(self, image: torch.Tensor, image_pe: torch.Tensor, sparse: torch.Tensor, dense: torch.Tensor,
                 multimask: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Low-resolution mask logits (B, M, 4h, 4w) and predicted IoUs (B, M) of the B
        objects of `sparse` (B, T, C) on `image` and `image_pe` (1, C, h, w). `dense` is
        each object's dense prompt (B, C, h, w), or one (1, C, h, w) that all share (the
        prompt encoder's no-mask embedding): the image is then the same for every object
        until the first attention of the image to the tokens."""
        decoder = self.decoder
        height, width = image.shape[-2:]
        output_tokens = torch.cat([decoder.iou_token.weight, decoder.mask_tokens.weight], dim=0)
        tokens = torch.cat([output_tokens.expand(sparse.shape[0], -1, -1), sparse], dim=1)
        keys = _channels_last(image + dense)      # (1 or B, N, C)
        pe = _channels_last(image_pe)

        queries, keys = self._transformer(tokens, keys, pe)
        chosen = slice(1, None) if multimask else slice(0, 1)
        iou = decoder.iou_prediction_head(queries[:, 0])[:, chosen]
        mask_tokens = queries[:, 1:1 + decoder.num_mask_tokens]
        hyper = torch.stack([mlp(mask_tokens[:, i]) for i, mlp in enumerate(decoder.output_hypernetworks_mlps)], 1)
        return self._masks(keys, hyper[:, chosen], height, width), iou

    def _transformer(self, tokens: torch.Tensor, keys: torch.Tensor,
                     pe: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """TwoWayTransformer.forward: (queries (B, T, C), image keys (B, N, C))."""
        transformer = self.decoder.transformer
        queries = tokens
        for layer in transformer.layers:
            if layer.skip_first_layer_pe:
                queries = layer.self_attn(q=queries, k=queries, v=queries)
            else:
                q = queries + tokens
                queries = queries + layer.self_attn(q=q, k=q, v=queries)
            queries = layer.norm1(queries)
            keyed = keys + pe          # the image with its positions, for both cross attentions
            queries = layer.norm2(queries + _token_to_image(layer.cross_attn_token_to_image, queries + tokens,
                                                            keyed, keys))
            queries = layer.norm3(queries + layer.mlp(queries))
            keys = layer.norm4(_image_to_token(layer.cross_attn_image_to_token, keyed, queries + tokens, queries,
                                               keys))
        attended = _token_to_image(transformer.final_attn_token_to_image, queries + tokens, keys + pe, keys)
        return transformer.norm_final_attn(queries + attended), keys

    def _masks(self, keys: torch.Tensor, hyper: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """output_upscaling and the hypernetwork product, channels last; (B, M, 4h, 4w)."""
        objects, masks = hyper.shape[:2]
        up = F.linear(keys, self.up_weight1, self.up_bias1)                   # (B, N, 2·2·C/4)
        up = up.reshape(objects, -1, self.up_norm.weight.shape[0])           # pixels (i, j, di, dj)
        up = self.up_act1(F.layer_norm(up, up.shape[-1:], self.up_norm.weight, self.up_norm.bias, self.up_norm.eps))
        up = self.up_act2(F.linear(up, self.up_weight2, self.up_bias2))      # (B, N·4, 2·2·C/8)
        logits = torch.matmul(up.reshape(objects, -1, hyper.shape[-1]), hyper.transpose(1, 2))
        # pixel (i, j, di, dj, ei, ej) is row 4i + 2di + ei, column 4j + 2dj + ej
        logits = logits.reshape(objects, height, width, 2, 2, 2, 2, masks).permute(0, 7, 1, 3, 5, 2, 4, 6)
        return logits.reshape(objects, masks, 4 * height, 4 * width)


def _channels_last(image: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) -> (B, h·w, C), as TwoWayTransformer flattens the image."""
    return image.flatten(2).transpose(1, 2).contiguous()


def _pixel_linear(conv) -> tuple[torch.Tensor, torch.Tensor]:
    """A ConvTranspose2d of kernel 2 and stride 2 as a per-pixel linear map (F.linear's
    weight, 2·2·C_out x C_in, outputs ordered di, dj, out channel) and its bias."""
    if tuple(conv.kernel_size) != (2, 2) or tuple(conv.stride) != (2, 2) or tuple(conv.padding) != (0, 0):
        raise ValueError(f"expected SAM's 2x2 stride-2 output upscaling, got {conv}")
    weight = conv.weight.permute(2, 3, 1, 0).reshape(-1, conv.weight.shape[0])
    return weight.contiguous(), conv.bias.repeat(4)


def _heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, T, I) -> (B, T, heads, I / heads)."""
    return x.reshape(*x.shape[:2], heads, -1)


def _rows_by(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a (B, R, K) @ b (1 or B, K, S): one matrix product when b is shared by all objects."""
    if b.shape[0] == 1 and a.shape[0] > 1:
        return (a.reshape(-1, a.shape[-1]) @ b[0]).reshape(*a.shape[:2], b.shape[-1])
    return torch.matmul(a, b)


def _token_to_image(attention, q: torch.Tensor, keyed: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Attention(q=tokens, k=keyed image, v=image keys), projected on the token side."""
    heads = attention.num_heads
    head_dim = attention.internal_dim // heads
    query = _heads(attention.q_proj(q), heads)                                   # (B, T, H, d)
    k_weight = attention.k_proj.weight.reshape(heads, head_dim, -1)              # (H, d, C)
    v_weight = attention.v_proj.weight.reshape(heads, head_dim, -1)
    projected = torch.einsum("bthd,hdc->bhtc", query, k_weight) / math.sqrt(head_dim)
    objects, _, tokens, channels = projected.shape
    scores = _rows_by(projected.reshape(objects, -1, channels), keyed.transpose(1, 2))   # (B, H·T, N)
    mixed = _rows_by(torch.softmax(scores, dim=-1), keys)                         # (B, H·T, C)
    values = torch.einsum("bhtc,hdc->bthd", mixed.reshape(objects, heads, tokens, channels), v_weight)
    values = values + attention.v_proj.bias.reshape(heads, head_dim)
    return attention.out_proj(values.reshape(objects, tokens, -1))


def _image_to_token(attention, keyed: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                    keys: torch.Tensor) -> torch.Tensor:
    """keys + Attention(q=keyed image, k=tokens, v=tokens), projected on the token side."""
    heads = attention.num_heads
    head_dim = attention.internal_dim // heads
    key = _heads(attention.k_proj(k), heads)                                     # (B, T, H, d)
    value = _heads(attention.v_proj(v), heads)
    q_weight = attention.q_proj.weight.reshape(heads, head_dim, -1)              # (H, d, C)
    out_weight = attention.out_proj.weight.reshape(-1, heads, head_dim)          # (C, H, d)
    scale = math.sqrt(head_dim)
    objects, tokens = key.shape[:2]
    by_channel = torch.einsum("hdc,bthd->bhtc", q_weight, key).reshape(objects, heads * tokens, -1) / scale
    offset = torch.einsum("hd,bthd->bht", attention.q_proj.bias.reshape(heads, head_dim), key) / scale
    # scores image-last (B, H, T, N): softmax over the few tokens then runs along the image
    scores = _rows_by(by_channel, keyed.transpose(1, 2)).reshape(objects, heads, tokens, -1)
    weights = torch.softmax(scores + offset[..., None], dim=2).reshape(objects, heads * tokens, -1)
    # each head's weights sum to 1, so the output bias is shared out over the heads
    unprojected = torch.einsum("bthd,chd->bhtc", value, out_weight) + attention.out_proj.bias / heads
    return keys + torch.matmul(weights.transpose(1, 2), unprojected.reshape(objects, heads * tokens, -1))
