"""CoDi's text VAE (Optimus): a BERT encoder and a GPT-2 decoder around one latent vector.

Encoder: transformers BertModel; its pooled [CLS] feature goes through `posterior`
(Linear hidden -> 2*latent, no bias) and is split into mean / logvar.

Decoder: transformers GPT2Model with Optimus's two latent injections (optimus_gpt2.py
GPT2Model_XX, latent_as_gpt_memory and latent_as_gpt_emb both on):
- `latent_to_memory` (latent -> n_layer*hidden, no bias) gives every layer one extra attention
  slot before the tokens: that layer's hidden-size slice is used, head-split, as BOTH its key
  and its value (not passed through c_attn). Token positions therefore start at 1.
- `latent_to_embedding` (latent -> hidden, no bias) is added to every token's input embedding.
The LM head is tied to the word embedding (GPT2LMHeadModel's tie), so it is not stored twice.

Latents outside this module are CoDi-scaled: scaled = 4.3108 * posterior mean.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
from transformers import BertConfig, BertModel, DynamicCache, GPT2Config, GPT2Model

from codi_studio.codi.autoencoders.configs import TextVAEConfig
from codi_studio.codi.autoencoders.text_cleanup import merge_adjacent_repeats


def _bert_config(c: TextVAEConfig) -> BertConfig:
    return BertConfig(vocab_size=c.encoder_vocab_size, hidden_size=c.encoder_hidden_size,
                      num_hidden_layers=c.encoder_layers, num_attention_heads=c.encoder_heads,
                      intermediate_size=c.encoder_intermediate_size, hidden_act="gelu",
                      hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                      max_position_embeddings=c.encoder_max_positions, type_vocab_size=c.encoder_type_vocab_size,
                      layer_norm_eps=c.encoder_layer_norm_eps, pad_token_id=0)


def _gpt2_config(c: TextVAEConfig) -> GPT2Config:
    return GPT2Config(vocab_size=c.decoder_vocab_size, n_positions=c.decoder_max_positions,
                      n_embd=c.decoder_hidden_size, n_layer=c.decoder_layers, n_head=c.decoder_heads,
                      layer_norm_epsilon=c.decoder_layer_norm_eps, activation_function="gelu_new",
                      bos_token_id=None, eos_token_id=None)


class TextVAE(nn.Module):
    def __init__(self, config: TextVAEConfig | None = None, encoder_tokenizer: Any = None,
                 decoder_tokenizer: Any = None) -> None:
        super().__init__()
        self.config = config or TextVAEConfig.official()
        c = self.config
        if c.decoder_hidden_size % c.decoder_heads:
            raise ValueError(f"text VAE config: decoder_hidden_size {c.decoder_hidden_size} "
                             f"is not divisible by decoder_heads {c.decoder_heads}")
        self.encoder = BertModel(_bert_config(c), add_pooling_layer=True)
        self.posterior = nn.Linear(c.encoder_hidden_size, 2 * c.latent_size, bias=False)
        self.decoder = GPT2Model(_gpt2_config(c))
        self.latent_to_memory = nn.Linear(c.latent_size, c.decoder_layers * c.decoder_hidden_size, bias=False)
        self.latent_to_embedding = nn.Linear(c.latent_size, c.decoder_hidden_size, bias=False)
        self.encoder_tokenizer = encoder_tokenizer
        self.decoder_tokenizer = decoder_tokenizer

    @classmethod
    def from_config_dict(cls, data: dict[str, Any]) -> "TextVAE":
        return cls(TextVAEConfig.from_dict(data))

    @property
    def scaling_factor(self) -> float:
        return self.config.scaling_factor

    @property
    def device(self) -> torch.device:
        return self.posterior.weight.device

    def attach_tokenizers(self, encoder_tokenizer: Any, decoder_tokenizer: Any) -> None:
        """transformers tokenizers: a BERT-style one ([CLS] ... [SEP], pad id 0) and a GPT-2 one with
        the config's bos / eos tokens (Optimus adds <PAD>, <BOS>, <EOS> to GPT-2's vocabulary)."""
        self.encoder_tokenizer = encoder_tokenizer
        self.decoder_tokenizer = decoder_tokenizer

    # ------------------------------------------------------------------ encoder
    def posterior_from_ids(self, input_ids: torch.Tensor,
                           attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Unscaled (mean, logvar), each (B, latent), of BERT token ids; padding is id 0 (as the reference)."""
        if attention_mask is None:
            attention_mask = (input_ids > 0).long()
        pooled = self.encoder(input_ids=input_ids, attention_mask=attention_mask).pooler_output
        mean, logvar = self.posterior(pooled).chunk(2, dim=-1)
        return mean, logvar

    def tokenize_for_encoder(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        if self.encoder_tokenizer is None:
            raise RuntimeError("TextVAE has no encoder tokenizer (attach_tokenizers)")
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("texts must be a list of str")
        if self.config.lowercase_input:
            texts = [t.lower() for t in texts]
        batch = self.encoder_tokenizer(list(texts), padding=True, truncation=True,
                                       max_length=self.config.encoder_max_positions, return_tensors="pt")
        return batch["input_ids"].to(self.device), batch["attention_mask"].to(self.device)

    def encode(self, texts: list[str]) -> torch.Tensor:
        """Texts -> CoDi text latent (B, latent) = scaling_factor * posterior mean."""
        ids, mask = self.tokenize_for_encoder(texts)
        mean, _ = self.posterior_from_ids(ids, mask)
        return mean * self.config.scaling_factor

    # ------------------------------------------------------------------ decoder
    def latent_memory(self, z: torch.Tensor) -> DynamicCache:
        """A key/value cache holding each layer's latent slot (one position) for unscaled z (B, latent)."""
        c = self.config
        head_dim = c.decoder_hidden_size // c.decoder_heads
        memory = self.latent_to_memory(z).view(z.shape[0], c.decoder_layers, c.decoder_heads, 1, head_dim)
        cache = DynamicCache(config=self.decoder.config)
        for layer in range(c.decoder_layers):
            slot = memory[:, layer]
            cache.update(slot, slot, layer)
        return cache

    def _step(self, z_embedding: torch.Tensor, input_ids: torch.Tensor, first_position: int,
              cache: DynamicCache) -> torch.Tensor:
        positions = torch.arange(first_position, first_position + input_ids.shape[1], device=input_ids.device)
        embeds = self.decoder.wte(input_ids) + z_embedding[:, None, :]
        hidden = self.decoder(inputs_embeds=embeds, position_ids=positions[None].expand_as(input_ids),
                              cache=cache, use_cache=True).last_hidden_state
        return hidden @ self.decoder.wte.weight.T  # tied LM head

    def logits(self, z: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        """Next-token logits (B, S, vocab) for unscaled latent z (B, latent) and GPT-2 ids (B, S)."""
        cache = self.latent_memory(z)
        return self._step(self.latent_to_embedding(z), input_ids, 1, cache)

    def _special_id(self, token: str) -> int:
        tok = self.decoder_tokenizer
        token_id = tok.convert_tokens_to_ids(token)
        if token_id is None or token_id == getattr(tok, "unk_token_id", object()):
            raise ValueError(f"decoder tokenizer has no {token!r} token")
        return int(token_id)

    @torch.no_grad()
    def generate_ids(self, z: torch.Tensor, max_length: int | None = None, temperature: float = 1.0,
                     generator: torch.Generator | None = None) -> list[list[int]]:
        """Token ids after <BOS> up to (not including) <EOS>, per latent. z is unscaled.

        As optimus.py's sample_single_sequence_conditional: a sequence holds at most max_length
        tokens counting <BOS> and the closing <EOS>. temperature 0 is greedy.
        """
        if self.decoder_tokenizer is None:
            raise RuntimeError("TextVAE has no decoder tokenizer (attach_tokenizers)")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        max_length = max_length or self.config.max_length
        bos, eos = self._special_id(self.config.bos_token), self._special_id(self.config.eos_token)
        batch = z.shape[0]
        cache = self.latent_memory(z)
        z_embedding = self.latent_to_embedding(z)
        tokens = torch.full((batch, 1), bos, dtype=torch.long, device=z.device)
        out: list[list[int]] = [[] for _ in range(batch)]
        done = [False] * batch
        for step in range(max_length - 2):
            logits = self._step(z_embedding, tokens, step + 1, cache)[:, -1].float()
            if temperature == 0:
                nxt = logits.argmax(dim=-1)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                if generator is not None:  # draw where the generator lives (a CPU one is the common case)
                    probs = probs.to(generator.device)
                nxt = torch.multinomial(probs, 1, generator=generator)[:, 0].to(z.device)
            for i, t in enumerate(nxt.tolist()):
                if done[i]:
                    continue
                if t == eos:
                    done[i] = True
                else:
                    out[i].append(t)
            if all(done):
                break
            tokens = nxt[:, None]
        return out

    def decode(self, latent: torch.Tensor, max_length: int | None = None, temperature: float = 1.0,
               generator: torch.Generator | None = None, merge_repeats: bool = True) -> list[str]:
        """CoDi text latent (B, latent) -> sentences (CoDi samples at temperature 1, then merges
        repeated adjacent words / phrases; merge_repeats=False returns the raw sample)."""
        z = latent / self.config.scaling_factor
        texts = []
        for ids in self.generate_ids(z, max_length, temperature, generator):
            text = self.decoder_tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True)
            text = " ".join(text.split())
            texts.append(merge_adjacent_repeats(text) if merge_repeats else text)
        return texts


def build_text_vae(config: dict[str, Any]) -> TextVAE:
    """Component factory (model folder `type: text_vae`); attach tokenizers before encode / decode."""
    return TextVAE.from_config_dict(config)
