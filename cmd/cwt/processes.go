package main

import (
	"fmt"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func (a *app) processesCommand() *cobra.Command {
	var filter string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "processes",
		Short: "List the server's processes",
		Long:  "List the processes the server offers (GetCapabilities), optionally only those whose identifier matches a regular expression.",
		Example: `  cwt processes
  cwt processes --filter 'subset|aggregate'
  cwt processes --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := regexp.Compile(filter); err != nil {
				return usagef("--filter %q is not a regular expression: %v", filter, err)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			list, err := c.Processes(cmd.Context(), filter)
			if err != nil {
				return err
			}
			if asJSON {
				if list == nil {
					return printJSON(a.io.out, []any{})
				}
				return printJSON(a.io.out, list)
			}
			tw := tabwriter.NewWriter(a.io.out, 0, 4, 2, ' ', 0)
			for _, p := range list {
				fmt.Fprintf(tw, "%s\t%s\n", p.Identifier, p.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&filter, "filter", "", "regular expression the identifier must match (anywhere)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON list of {identifier, title, abstract, version}")
	return cmd
}

func (a *app) describeCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "describe ID",
		Short: "Describe a process: what it does, its inputs and parameters",
		Example: `  cwt describe CDAT.subset
  cwt describe CDAT.average --json`,
		Args: exactArgs(1, "a process identifier such as CDAT.subset"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			d, err := c.Describe(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(a.io.out, d)
			}
			w := a.io.out
			fmt.Fprintf(w, "%s (version %s): %s\n\n", d.Identifier, d.Version, d.Title)
			if d.Abstract != "" {
				fmt.Fprintf(w, "%s\n\n", wrap(d.Abstract, 78))
			}
			fmt.Fprintln(w, "Inputs:")
			for _, in := range d.Inputs {
				fmt.Fprintf(w, "  %-10s %s\n", in.Identifier, strings.Join(in.MimeTypes, ", "))
			}
			fmt.Fprintln(w, "Outputs:")
			for _, out := range d.Outputs {
				fmt.Fprintf(w, "  %-10s %s\n", out.Identifier, strings.Join(out.MimeTypes, ", "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the description as JSON")
	return cmd
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		if n > 0 && n+1+len(word) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}
