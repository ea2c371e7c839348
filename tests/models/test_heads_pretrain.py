"""Loss heads of the pretraining algorithms."""
import pytest
import torch
import torch.nn.functional as F

from lmim_mm.models.heads import LMIMHead, TextMAEHead


def test_patchify_follows_the_8x32_grid_row_major():
    head = TextMAEHead(patch_size=4)
    imgs = torch.arange(2 * 3 * 32 * 128, dtype=torch.float32).reshape(2, 3, 32, 128)
    patches = head.patchify(imgs)
    assert patches.shape == (2, 256, 48)
    for token in (0, 31, 32, 100, 255):
        r, c = divmod(token, 32)
        expected = imgs[:, :, 4 * r:4 * r + 4, 4 * c:4 * c + 4].permute(0, 2, 3, 1).reshape(2, 48)
        torch.testing.assert_close(patches[:, token], expected)


def test_norm_pix_target_is_standardised_per_patch():
    target = TextMAEHead(norm_pix=True).construct_target(torch.rand(2, 3, 32, 128))
    torch.testing.assert_close(target.mean(-1), torch.zeros(2, 256), atol=1e-5, rtol=0)
    torch.testing.assert_close(target.var(-1), torch.ones(2, 256), atol=1e-3, rtol=0)
    raw = TextMAEHead(norm_pix=False)
    imgs = torch.rand(1, 3, 32, 128)
    torch.testing.assert_close(raw.construct_target(imgs), raw.patchify(imgs))


def test_mae_loss_counts_masked_patches_only():
    head = TextMAEHead()
    imgs, pred = torch.rand(3, 3, 32, 128), torch.randn(3, 256, 48)
    mask = torch.zeros(3, 256)
    mask[:, :192] = 1
    loss = head.loss(pred, imgs, mask)['loss_recon']
    moved = pred.clone()
    moved[:, 192:] += 5  # visible patches
    torch.testing.assert_close(head.loss(moved, imgs, mask)['loss_recon'], loss)
    target = head.construct_target(imgs)
    expected = ((pred - target)**2).mean(-1)[:, :192].mean()
    torch.testing.assert_close(loss, expected)
    per_sample = head.loss(pred, imgs, mask, reduction='none')['loss_recon']
    assert per_sample.shape == (3, )
    torch.testing.assert_close(per_sample.mean(), loss)


def test_unpatchify_inverts_patchify_and_reconstruct_undoes_norm_pix():
    head = TextMAEHead(patch_size=4, norm_pix=True)
    imgs = torch.rand(2, 3, 32, 128)
    torch.testing.assert_close(head.unpatchify(head.patchify(imgs), (8, 32)), imgs)
    all_masked = torch.ones(2, 256, dtype=torch.bool)
    torch.testing.assert_close(head.reconstruct(head.construct_target(imgs), imgs, all_masked), imgs, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match='grid'):
        head.unpatchify(torch.zeros(2, 255, 48), (8, 32))


def test_mae_loss_is_mmpretrains_pixel_reconstruction_loss():
    from mmpretrain.models.losses import PixelReconstructionLoss
    head = TextMAEHead()
    imgs, pred, mask = torch.rand(2, 3, 32, 128), torch.randn(2, 256, 48), torch.rand(2, 256) < 0.75
    expected = PixelReconstructionLoss('L2')(pred, head.construct_target(imgs), mask.float())
    torch.testing.assert_close(head.loss(pred, imgs, mask)['loss_recon'], expected)


def test_lmim_head_target_and_losses():
    head = LMIMHead(align_weight=2.0)
    teacher = torch.randn(2, 257, 16) * 3 + 1
    target = head.construct_target(teacher)
    torch.testing.assert_close(target, F.layer_norm(teacher[:, 1:], (16, ), eps=1e-5))
    pred, mask = torch.randn(2, 256, 16), (torch.rand(2, 256) < 0.8).float()
    cls_a, cls_b = torch.randn(2, 16), torch.randn(2, 16)
    losses = head.loss(pred, teacher, mask, cls_a, cls_b)
    per_token = ((pred - target)**2).mean(-1)
    torch.testing.assert_close(losses['loss_recon'], (per_token * mask).sum() / mask.sum())
    torch.testing.assert_close(losses['loss_align'], 2.0 * F.mse_loss(cls_a, cls_b))
    per_sample = head.loss(pred, teacher, mask, cls_a, cls_b, reduction='none')
    torch.testing.assert_close(per_sample['loss_align'], 2.0 * ((cls_a - cls_b)**2).mean(-1))


def test_losses_are_float32_under_half_inputs():
    head = LMIMHead()
    teacher, pred = torch.randn(1, 257, 8).half(), torch.randn(1, 256, 8).half()
    out = head.loss(pred, teacher, torch.ones(1, 256), torch.randn(1, 8).half(), torch.randn(1, 8).half())
    assert all(v.dtype == torch.float32 for v in out.values())


def test_lmim_instance_norm_target_removes_what_all_tokens_of_an_image_share():
    teacher = torch.randn(2, 257, 16)
    shifted = teacher + torch.randn(2, 1, 16) * 5  # a per-image offset shared by every token
    plain, inorm = LMIMHead(), LMIMHead(target_instance_norm=True)
    patches = teacher[:, 1:]
    std = (patches.var(1, unbiased=False, keepdim=True) + 1e-5).sqrt()
    standardised = (patches - patches.mean(1, keepdim=True)) / std
    torch.testing.assert_close(inorm.construct_target(teacher), F.layer_norm(standardised, (16, ), eps=1e-5))
    torch.testing.assert_close(inorm.construct_target(shifted), inorm.construct_target(teacher), atol=1e-4, rtol=0)
    assert not torch.allclose(plain.construct_target(shifted), plain.construct_target(teacher), atol=1e-2)
