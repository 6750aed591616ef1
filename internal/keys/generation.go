package keys

import (
	"context"
	"fmt"

	"github.com/securecart/securecart/internal/sqldb"
)

// Generation returns a short value that changes whenever a key-encryption
// key or a data key is added, assigned to an owner, changes state or is
// destroyed, or the root key changes. A backup compares it with the value at its last keystore
// snapshot to decide whether the keystore needs a new one. Seal counts do
// not change it.
func (k *Keystore) Generation(ctx context.Context) (string, error) {
	var dkN, dkMax, dkState, dkOwned, kekN, kekVers, kekState int64
	err := k.db.Read(ctx, func(tx sqldb.Tx) error {
		err := tx.QueryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(state), 0),"+
			" COALESCE(SUM(CASE WHEN owner IS NULL THEN 0 ELSE 1 END), 0) FROM ks_data_keys").
			Scan(&dkN, &dkMax, &dkState, &dkOwned)
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(version), 0), COALESCE(SUM(state), 0) FROM ks_keks").
			Scan(&kekN, &kekVers, &kekState)
	})
	if err != nil {
		return "", fmt.Errorf("keystore generation: %w", err)
	}
	return fmt.Sprintf("%s/%d/%d/%d/%d/%d/%d/%d", k.rootID(), dkN, dkMax, dkState, dkOwned,
		kekN, kekVers, kekState), nil
}
