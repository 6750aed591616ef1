package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/store"
)

func newPaymentsCmd(g *globals) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "payments",
		Short: "Manage the card vault's tokens on a running deployment (an API client)",
	}
	f.register(cmd)

	del := &cobra.Command{
		Use:   "delete TOKEN",
		Short: "Delete a card token and destroy its key: its card opens nowhere again, backups included",
		Long: "Delete a card token and destroy its key: its card opens nowhere again, backups included.\n" +
			"The default policies allow it to the storefront (app-service) and to a dba signed in with MFA.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Checked here so that a card number given by mistake is sent
			// nowhere and printed in no error.
			if !store.ValidToken(args[0]) {
				return errors.New("delete token: not a card vault token (tok_ and 32 letters and digits)")
			}
			c, err := f.client(g)
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", "/v1/payments/tokens/"+args[0], nil, nil); err != nil {
				return fmt.Errorf("delete token: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "deleted; its key is destroyed")
			return nil
		},
	}
	cmd.AddCommand(del)
	return cmd
}
