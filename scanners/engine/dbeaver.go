package engine

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"path"

	"github.com/credscan/credscan"
)

// dbeaverKey is the AES-128 key DBeaver encrypts its saved credentials
// (credentials-config.json) with: the same in every installation, as
// DBeaver documents, so the file is obfuscated, not protected.
var dbeaverKey = []byte{0xba, 0xbb, 0x4a, 0x9f, 0x77, 0x4a, 0xb8, 0x53, 0xc9, 0x6c, 0x2d, 0x65, 0x3d, 0xfe, 0x54, 0x4a}

// dbeaverCredentials decrypts a DBeaver credentials-config.json (AES-128-CBC,
// the IV in its first 16 bytes) into the JSON it holds, or returns nil when
// ch is not one.
func dbeaverCredentials(ch credscan.Chunk) []byte {
	if path.Base(ch.Origin.Path) != "credentials-config.json" || !ch.Whole || len(ch.Data) < 32 || len(ch.Data)%aes.BlockSize != 0 || json.Valid(ch.Data) {
		return nil
	}
	block, err := aes.NewCipher(dbeaverKey)
	if err != nil {
		return nil
	}
	out := make([]byte, len(ch.Data)-aes.BlockSize)
	cipher.NewCBCDecrypter(block, ch.Data[:aes.BlockSize]).CryptBlocks(out, ch.Data[aes.BlockSize:])
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(out) {
		return nil
	}
	out = out[:len(out)-pad]
	if !json.Valid(out) {
		return nil
	}
	return out
}
