import { APIGatewayClient, GetRestApisCommand, ImportRestApiCommand } from '@aws-sdk/client-api-gateway';
import {
  DescribeNetworkInterfacesCommand,
  EC2Client,
  DescribeVpcsCommand,
  paginateDescribeNetworkInterfaces,
} from '@aws-sdk/client-ec2';
import {
  CreateRoleCommand,
  IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeCloud, FakeEc2, type FakeCloud } from '../support/fake-cloud/index.js';
import { page } from '../support/fake-cloud/paging.js';

const REGION = 'us-east-1';
let cloud: FakeCloud;
beforeEach(() => {
  cloud = createFakeCloud();
  cloud.pageSize = undefined; // each test sets the mode it shows, whatever FAKE_CLOUD_PAGE_SIZE says
});
afterEach(() => cloud.uninstall());

const ec2 = () => new EC2Client({ region: REGION });

/** Three ENIs: the first in another VPC, so a vpc-id filter drops it from the first page. */
function threeEnis(): void {
  const r = cloud.model(FakeEc2).region(REGION);
  const eni = (n: number, vpcId: string) =>
    r.enis.set(`eni-${n}`, {
      NetworkInterfaceId: `eni-${n}`,
      SubnetId: 'subnet-1',
      VpcId: vpcId,
      groupIds: [],
      PrivateIpAddress: `10.0.0.${n}`,
      Description: `AWS Lambda VPC ENI-${n}`,
      owner: `lambda:${n}`,
    });
  eni(1, 'vpc-other');
  eni(2, 'vpc-mine');
  eni(3, 'vpc-mine');
}

/** A fresh input each time: the SDK's paginators write NextToken into the input they are given. */
const mine = () => ({ Filters: [{ Name: 'vpc-id', Values: ['vpc-mine'] }] });

describe('fake cloud paging', () => {
  it('EC2 applies Filters after cutting the page: the first page comes back empty with a NextToken', async () => {
    threeEnis();
    cloud.pageSize = 1;
    const first = await ec2().send(new DescribeNetworkInterfacesCommand(mine()));
    expect(first.NetworkInterfaces).toEqual([]);
    expect(first.NextToken).toBeTruthy();
    const ids: string[] = [];
    for await (const p of paginateDescribeNetworkInterfaces({ client: ec2() }, mine())) {
      ids.push(...(p.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId!));
    }
    expect(ids).toEqual(['eni-2', 'eni-3']);
  });

  it('without the test mode a call gets the service default page: everything here, no token', async () => {
    threeEnis();
    const r = await ec2().send(new DescribeNetworkInterfacesCommand(mine()));
    expect(r.NetworkInterfaces!.map((n) => n.NetworkInterfaceId)).toEqual(['eni-2', 'eni-3']);
    expect(r.NextToken).toBeUndefined();
  });

  it('MaxResults pages as asked, and a call by ids is answered whole', async () => {
    threeEnis();
    const r = await ec2().send(new DescribeNetworkInterfacesCommand({ MaxResults: 2 }));
    expect(r.NetworkInterfaces).toHaveLength(2);
    expect(r.NextToken).toBeTruthy();
    cloud.pageSize = 1;
    const byIds = await ec2().send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-1', 'eni-3'] }),
    );
    expect(byIds.NetworkInterfaces).toHaveLength(2);
    await expect(
      ec2().send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-1'], MaxResults: 5 })),
    ).rejects.toMatchObject({ name: 'InvalidParameterCombination' });
  });

  it('a token is refused by another command, with the service error', async () => {
    threeEnis();
    cloud.pageSize = 1;
    const { NextToken } = await ec2().send(new DescribeNetworkInterfacesCommand({}));
    await expect(ec2().send(new DescribeVpcsCommand({ NextToken }))).rejects.toMatchObject({
      name: 'InvalidPaginationToken',
    });
  });

  it('an item deleted between two pages skips nothing that is left', () => {
    const all = ['a', 'b', 'c', 'd'];
    const rule = { command: 'X', defaultSize: 2, key: (s: string) => s };
    const one = page({ pageSize: undefined }, all, {}, rule);
    expect(one.items).toEqual(['a', 'b']);
    const two = page({ pageSize: undefined }, ['a', 'c', 'd'], { token: one.next }, rule);
    expect(two.items).toEqual(['c', 'd']);
    expect(two.next).toBeUndefined();
  });

  // A test of the fake's paging, not of drctl's permissions: another user of the account calls.
  it('API Gateway pages with position; IAM with Marker and IsTruncated', () =>
    cloud.authorizer.asAdmin(async () => {
      cloud.pageSize = 1;
      const apigw = new APIGatewayClient({ region: REGION });
      const body = new TextEncoder().encode(
        JSON.stringify({ openapi: '3.0.1', info: { title: 't', version: '1' }, paths: {} }),
      );
      await apigw.send(new ImportRestApiCommand({ body }));
      cloud.clock.advance(60_000); // API Gateway's control-plane rate limit
      await apigw.send(new ImportRestApiCommand({ body }));
      const first = await apigw.send(new GetRestApisCommand({ limit: 500 }));
      expect(first.items).toHaveLength(1);
      const second = await apigw.send(new GetRestApisCommand({ limit: 500, position: first.position }));
      expect(second.items).toHaveLength(1);
      expect(second.items![0]!.id).not.toBe(first.items![0]!.id);
      expect(second.position).toBeUndefined();

      const iam = new IAMClient({ region: REGION });
      await iam.send(
        new CreateRoleCommand({
          RoleName: 'r',
          AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
        }),
      );
      const doc = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
      });
      await iam.send(new PutRolePolicyCommand({ RoleName: 'r', PolicyName: 'a', PolicyDocument: doc }));
      await iam.send(new PutRolePolicyCommand({ RoleName: 'r', PolicyName: 'b', PolicyDocument: doc }));
      const p1 = await iam.send(new ListRolePoliciesCommand({ RoleName: 'r' }));
      expect(p1).toMatchObject({ PolicyNames: ['a'], IsTruncated: true });
      const p2 = await iam.send(new ListRolePoliciesCommand({ RoleName: 'r', Marker: p1.Marker }));
      expect(p2).toMatchObject({ PolicyNames: ['b'], IsTruncated: false });
    }));
});
