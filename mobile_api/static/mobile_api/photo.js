// Photos are shrunk on the phone before they queue: a full-size camera picture would take
// minutes on a weak signal and fill the phone's storage while it waits.

const PHOTO_MAX_BYTES = 2 * 1024 * 1024; // after compression; the server takes up to 10 MB
const PHOTO_MAX_SIDE = 1600;

// A JPEG of `file` under PHOTO_MAX_BYTES, or null when even the smallest try is too big.
export async function compressPhoto(file) {
  const bitmap = await createImageBitmap(file);
  let side = PHOTO_MAX_SIDE;
  for (const quality of [0.8, 0.65, 0.5]) {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
    if (blob && blob.size <= PHOTO_MAX_BYTES) return blob;
    side = Math.round(side * 0.75);
  }
  return null;
}
